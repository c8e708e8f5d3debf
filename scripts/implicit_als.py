#!/usr/bin/env python3
"""The outside reference for `rec-eval`: the Python `implicit` library's ALS on the same split.

usage: implicit_als.py TRAIN USERS OUT FACTORS REGULARIZATION ALPHA ITERATIONS THREADS

TRAIN holds `user item value` lines (numbers from 0), USERS one test user per line. Writes to
OUT one line per test user, `user item item ...` (50 items, best first, training items left
out), and prints `{"train_secs": .., "serve_secs": ..}`. Confidence is made to match
Beatstream's, `1 + alpha * value`: implicit reads the values it is given as the confidence.
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402


def main():
    train, users_file, out = sys.argv[1:4]
    factors, reg, alpha, iterations, threads = (
        int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]))
    data = np.loadtxt(train, dtype=np.float64, ndmin=2)
    users = np.loadtxt(users_file, dtype=np.int64, ndmin=1)
    n_users = int(max(data[:, 0].max(), users.max())) + 1
    n_items = int(sys.argv[9]) if len(sys.argv) > 9 else int(data[:, 1].max()) + 1
    values = sp.csr_matrix(
        (data[:, 2].astype(np.float32), (data[:, 0].astype(np.int64), data[:, 1].astype(np.int64))),
        shape=(n_users, n_items))
    values.sum_duplicates()
    confidence = values.copy()
    confidence.data = 1.0 + alpha * confidence.data
    model = AlternatingLeastSquares(factors=factors, regularization=reg, alpha=1.0,
                                    iterations=iterations, random_state=42, num_threads=threads,
                                    calculate_training_loss=False)
    started = time.perf_counter()
    model.fit(confidence, show_progress=False)
    train_secs = time.perf_counter() - started
    started = time.perf_counter()
    ids, _ = model.recommend(users, values[users], N=50, filter_already_liked_items=True)
    serve_secs = time.perf_counter() - started
    with open(out, "w") as f:
        for user, row in zip(users, ids):
            f.write(" ".join([str(int(user))] + [str(int(x)) for x in row]) + "\n")
    print(json.dumps({"train_secs": train_secs, "serve_secs": serve_secs,
                      "version": __import__("implicit").__version__}))


if __name__ == "__main__":
    main()
