"""Planning questions asked before committing compute: compute-optimal size, target loss, batch size, hyperparameters."""
