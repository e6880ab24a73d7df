"""The ladder: train small decoder-only transformers on download-free corpora to produce
the runs that scaling laws are fitted on (needs the ``[ladder]`` extra, i.e. PyTorch).

Import the submodules directly (``scalelaw.ladder.spec``, ``.executors``, ...): this
package imports nothing itself so that ``scalelaw`` stays usable without torch.
"""
