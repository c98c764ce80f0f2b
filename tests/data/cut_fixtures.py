"""Cut the tiny real fixtures of this folder from the full public sets.

Usage: ``python tests/data/cut_fixtures.py SOURCE`` where ``SOURCE`` holds ``libsvm/`` and
``text/`` as the project's data directory does (``$FASTTEXT_LIN_DATA``). Every cut takes the
first lines (or files, in numeric order) byte for byte: line endings and encodings are kept.
"""

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# fixture folder -> [(source file under SOURCE, lines kept)]
LINE_CUTS = {
    "a9a": [("libsvm/a9a", 300), ("libsvm/a9a.t", 300)],
    "dna": [("libsvm/dna.scale", 200), ("libsvm/dna.scale.t", 200)],
    "rt-polarity": [("text/rt-polarity/rt-polarity.pos", 200),
                    ("text/rt-polarity/rt-polarity.neg", 200)],
    "sst2": [("text/sst2/stsa.binary.train", 100), ("text/sst2/stsa.binary.test", 100)],
}
NEWSGROUPS = ("alt.atheism", "comp.graphics", "sci.space")
DOCS_PER_CLASS = 2


def head(source, target, n_lines):
    with open(source, "rb") as f:
        lines = [line for _, line in zip(range(n_lines), f)]
    target.write_bytes(b"".join(lines))


def main(source):
    source = Path(source)
    for folder, cuts in LINE_CUTS.items():
        for path, n_lines in cuts:
            head(source / path, HERE / folder / Path(path).name, n_lines)
    for split in ("train", "test"):
        for group in NEWSGROUPS:
            origin = source / "text/20newsgroups" / f"20news-bydate-{split}" / group
            target = HERE / "20newsgroups" / split / group
            target.mkdir(parents=True, exist_ok=True)
            for doc in sorted(origin.iterdir(), key=lambda p: int(p.name))[:DOCS_PER_CLASS]:
                shutil.copyfile(doc, target / doc.name)


if __name__ == "__main__":
    main(sys.argv[1])
