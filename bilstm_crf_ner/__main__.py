"""``python -m bilstm_crf_ner``: the command line (see :mod:`bilstm_crf_ner.cli`)."""

if __name__ == "__main__":
    import sys

    from .cli import main

    sys.exit(main())
