"""The training side: everything that imports TensorFlow, Keras or keras-hub.

The Keras layers (CRF, length-aware BiLSTM), the embeddings' Keras layers, BERT checkpoint
porting and the encoder layer, the network, training and the :class:`BLSTMCRFModel` facade.
Deployment never imports this package (see :mod:`bilstm_crf_ner.core`).
"""
