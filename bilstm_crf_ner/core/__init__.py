"""The TensorFlow-free core: everything an exported model needs to tag text.

Tag schemes, CRF decoding and marginals (numpy), tokenization, vocabularies, feature encoders,
WordPiece alignment, windows, padding and batching, entities and the prediction pipeline.
Nothing under ``bilstm_crf_ner.core`` imports ``tensorflow``, ``keras`` or ``keras_hub``
(``tests/test_architecture.py`` enforces it): the runtime, the server and the CLI's commands
on an exported folder are built from this package alone.
"""
