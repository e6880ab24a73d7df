"""Choosing a law and sizing its intervals: rolling-origin folds, backtests, ``--law auto``, calibration.

Beside :mod:`scalelaw.fit` (the engine that fits one law), this package decides which
law to trust and how far: it fits laws on folds of the data, scores their forecasts of
the held-out runs, picks the law (``auto``) and turns the backtest errors into the
law's own error (``calibration``). It imports the engine; the engine never imports it.
"""
