"""One module per input format, each turning a file or folder into the same raw table.

:mod:`~scalelaw.data.readers.formats` is the registry (which reader a path needs);
:mod:`~scalelaw.data.readers.raw` the :class:`RawTable` every reader returns. Readers import
the file-safety helpers (:mod:`scalelaw.data.guards`) and the metadata names
(:mod:`scalelaw.data.aliases`), never the pipeline that calls them (:mod:`scalelaw.data.pipeline`).
Nothing is imported here, so importing one reader does not import the others.
"""
