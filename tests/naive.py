"""Plain NumPy references for the jitted kernels: dense weights, no tricks, one step at a time."""

import numpy as np


def naive_loss_derivative(loss, p, y):
    """d loss / d p, written from the textbook definitions."""
    z = p * y
    if loss == "hinge":
        return -y if z < 1 else 0.0
    if loss == "squared_hinge":
        return -2 * y * (1 - z) if z < 1 else 0.0
    if loss == "log_loss":
        return -y / (1 + np.exp(z))
    if loss == "modified_huber":
        if z >= 1:
            return 0.0
        return -2 * y * (1 - z) if z >= -1 else -4 * y
    if loss == "squared_error":
        return p - y
    raise ValueError(loss)


def naive_learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0):
    if schedule == "optimal":
        return 1 / (alpha * (optimal_t0 + t - 1))
    if schedule == "invscaling":
        return eta0 / t**power_t
    return eta0


def naive_sgd(X, y, orders, loss, schedule="constant", alpha=0.0, eta0=0.1, power_t=0.5,
              optimal_t0=1.0, intercept_decay=1.0, average_start=-1, sample_weight=None):
    """Run SGD over the rows of dense ``X`` in each order of ``orders``.

    Each step is ``w <- max(0, 1 - eta alpha) w - eta s_i L'(p) x_i`` with the
    gradient taken at the weights before the step; the intercept takes the same
    step times ``intercept_decay``, without shrinkage (0: no intercept). Returns
    ``(w, b, w_avg, b_avg)``; the averages are the means of the weights after each step
    from ``average_start`` on (None when not averaging).
    """
    sample_weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    w = np.zeros(X.shape[1])
    b = 0.0
    w_sum, b_sum, n_avg = np.zeros_like(w), 0.0, 0
    t = 1
    for order in orders:
        for i in order:
            p = X[i] @ w + b
            eta = naive_learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
            g = sample_weight[i] * naive_loss_derivative(loss, p, y[i])
            w = max(0.0, 1 - eta * alpha) * w - eta * g * X[i]
            b -= intercept_decay * eta * g
            if 0 <= average_start <= t:
                w_sum += w
                b_sum += b
                n_avg += 1
            t += 1
    if n_avg == 0:
        return w, b, None, None
    return w, b, w_sum / n_avg, b_sum / n_avg


def naive_softmax_sgd(X, y, n_classes, orders, schedule="constant", alpha=0.0, eta0=0.1,
                      power_t=0.5, optimal_t0=1.0, intercept_decay=1.0, average_start=-1,
                      sample_weight=None):
    """Softmax (multinomial) SGD over the rows of dense ``X`` in each order of ``orders``.

    Each step is ``W <- max(0, 1 - eta alpha) W - eta s_i (p - e_y) x_i^T`` with
    ``p = softmax(W x_i + b)`` at the weights before the step; the intercepts take the same
    step times ``intercept_decay``, without shrinkage. ``W`` has shape
    (n_classes, n_features). Returns
    ``(W, b, W_avg, b_avg, loss)``: the averages as in :func:`naive_sgd`, ``loss`` the sum
    of ``s_i CE_i`` over the steps, each taken before its step.
    """
    sample_weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    W = np.zeros((n_classes, X.shape[1]))
    b = np.zeros(n_classes)
    W_sum, b_sum, n_avg = np.zeros_like(W), np.zeros_like(b), 0
    loss = 0.0
    t = 1
    for order in orders:
        for i in order:
            z = W @ X[i] + b
            p = np.exp(z - z.max())
            p /= p.sum()
            loss += sample_weight[i] * -np.log(p[y[i]])
            eta = naive_learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
            g = sample_weight[i] * (p - np.eye(n_classes)[y[i]])
            W = max(0.0, 1 - eta * alpha) * W - eta * np.outer(g, X[i])
            b = b - intercept_decay * eta * g
            if 0 <= average_start <= t:
                W_sum += W
                b_sum += b
                n_avg += 1
            t += 1
    if n_avg == 0:
        return W, b, None, None, loss
    return W, b, W_sum / n_avg, b_sum / n_avg, loss


def naive_gap_and_screen(X, y, cost, upper, diag, alpha, w, bias, squared, shrink):
    """The dual CD sweep in NumPy: ``(primal, dual, kept, spread)`` at ``w`` (bias weight
    last) and ``alpha``; ``kept`` the rows of positive ``upper`` that liblinear's shrinking
    keeps, by bounds ``shrink`` times all the rows' extreme projected gradients (none on a
    side whose extreme has the bound's sign)."""
    z = X @ w[:-1] + bias * w[-1]
    slack = np.maximum(0.0, 1.0 - y * z)
    primal = 0.5 * w @ w + cost @ (slack**2 if squared else slack)
    dual = alpha.sum() - 0.5 * w @ w - 0.5 * diag @ alpha**2
    g = y * z - 1.0 + diag * alpha
    low, high = alpha == 0.0, alpha == upper
    pg = np.where(low, np.minimum(g, 0.0), np.where(high, np.maximum(g, 0.0), g))[upper > 0]
    high_pg, low_pg = pg.max(initial=-np.inf), pg.min(initial=np.inf)
    top = shrink * high_pg if high_pg > 0.0 else np.inf
    bottom = shrink * low_pg if low_pg < 0.0 else -np.inf
    shrunk = (low & (g > top)) | (high & (g < bottom))
    return primal, dual, np.flatnonzero((upper > 0) & ~shrunk), high_pg - low_pg


def naive_logistic_dual_pass(X, y, cost, alpha, order, bias=0.0):
    """One pass of dual coordinate descent for log loss over the rows of dense ``X`` in
    ``order``: each ``alpha_i`` in (0, cost_i) set to the root of its one-variable
    problem's derivative ``qd (z - alpha_i) + y_i w.x_i + log(z / (cost_i - z))`` by
    bisection (the bias column appended). Returns ``(w, alpha)``, ``w`` with the bias
    weight last."""
    Xb = np.hstack([X, np.full((X.shape[0], 1), bias)])
    alpha = alpha.astype(np.float64).copy()
    w = Xb.T @ (alpha * y)
    for i in order:
        c, old, qd, b = cost[i], alpha[i], Xb[i] @ Xb[i], y[i] * (Xb[i] @ w)
        lo, hi = 0.0, c
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if qd * (mid - old) + b + np.log(mid / (c - mid)) > 0:
                hi = mid
            else:
                lo = mid
        alpha[i] = 0.5 * (lo + hi)
        w += (alpha[i] - old) * y[i] * Xb[i]
    return w, alpha


def naive_multinomial(X, y, W, cost):
    """The multinomial objective ``1/2 ||W||^2 + sum_i c_i (log sum_k exp(z_ik) - z_iy)``,
    ``z_i = x_i W``, on dense ``X`` (any bias column included) and ``W`` of shape
    (n_features, n_classes), written from the definitions: ``(value, gradient, Hessian)``,
    the Hessian over ``W.reshape(-1)``, ``I + sum_i c_i (x_i x_i^T) kron (diag p_i - p_i
    p_i^T)``.
    """
    n_classes = W.shape[1]
    value, grad = 0.5 * np.sum(W * W), W.copy()
    hessian = np.eye(W.size)
    for i in range(X.shape[0]):
        z = X[i] @ W
        p = np.exp(z - z.max())
        p /= p.sum()
        value += cost[i] * (np.log(np.sum(np.exp(z))) - z[y[i]])
        grad += cost[i] * np.outer(X[i], p - np.eye(n_classes)[y[i]])
        hessian += cost[i] * np.kron(np.outer(X[i], X[i]), np.diag(p) - np.outer(p, p))
    return value, grad, hessian


def naive_logistic(X, y, w, cost):
    """The binary log-loss objective ``1/2 ||w||^2 + sum_i c_i log(1 + exp(-y_i x_i.w))`` on
    dense ``X`` (any bias column included), ``y`` in {-1, +1}, written from the definitions:
    ``(value, gradient, Hessian)``."""
    value, grad, hessian = 0.5 * w @ w, w.copy(), np.eye(w.shape[0])
    for i in range(X.shape[0]):
        z = y[i] * (X[i] @ w)
        p = 1.0 / (1.0 + np.exp(z))  # sigma(-z)
        value += cost[i] * np.log(1.0 + np.exp(-z))
        grad -= cost[i] * p * y[i] * X[i]
        hessian += cost[i] * p * (1.0 - p) * np.outer(X[i], X[i])
    return value, grad, hessian
