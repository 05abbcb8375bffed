"""Training data as ``tf.data`` pipelines: checked pairs -> chunks that fit the encoder -> ids in
the model's tag scheme -> length-bucketed padded batches.

Used by :meth:`BLSTMCRFModel.fit`; every function takes the model (for its embedding, tags and
scheme) and returns what ``keras.Model.fit`` consumes. In-memory data, streams that do not
fit in memory (:mod:`bilstm_crf_ner.keras.streams`), and the pure graph datasets that
``MultiWorkerMirroredStrategy`` can shard are built here.
"""

from __future__ import annotations

import logging

import numpy as np
import tensorflow as tf

from ..core.batching import bucketed_batches, pad_batch, stream_batches
from ..core.errors import InputError
from ..core.inference import check_pairs, to_scheme
from ..core.tags import normalize_scheme, scheme_of_prefixes

logger = logging.getLogger(__name__)


def checked_pairs(model, x, y, name: str):
    """``(token lists, tag lists)`` of labelled data, non-empty and without empty sentences (the
    CRF loss is undefined on them); raw strings are tokenized like predictions."""
    tokens, tags = check_pairs(x, y, model.embedding.tokenize, name)
    if not tokens:
        raise InputError(f"{name} is empty")
    empty = [i for i, t in enumerate(tokens) if not t]
    if empty:
        raise InputError(f"{name}: sentence {empty[0]} is empty ({len(empty)} empty sentences)")
    return tokens, tags


def split_long(model, tokens, tags):
    """Cut sentences longer than the embedding's window into chunks, preferably between entities.

    A chunk that still starts inside an entity is repaired when converted to the model's
    scheme (its first tag becomes a begin tag)."""
    out_tokens, out_tags = [], []
    for sentence, sentence_tags in zip(tokens, tags):
        windows = model.embedding.windows(sentence)
        if len(windows) > 1:  # plan again, cutting outside entities where possible
            cut_ok = [t == "O" or t[:1] in ("B", "S") for t in sentence_tags] + [True]
            windows = model.embedding.windows(sentence, cut_ok)
        for start, stop in windows:
            out_tokens.append(sentence[start:stop])
            out_tags.append(sentence_tags[start:stop])
    if len(out_tokens) > len(tokens):
        logger.info("split %d long sentences into %d chunks that fit the encoder", len(tokens), len(out_tokens))
    return out_tokens, out_tags


def tag_ids(model, tag_sequences, name: str) -> list[np.ndarray]:
    """Tag strings (in the model's scheme) as id arrays; :class:`InputError` for unknown tags."""
    index = {t: i for i, t in enumerate(model.tags)}
    out = []
    for i, tags in enumerate(tag_sequences):
        try:
            out.append(np.array([index[t] for t in tags], dtype=np.int32))
        except KeyError as exc:
            raise InputError(f"{name}: sentence {i} has tag {exc.args[0]!r}, unknown to this model "
                             f"(tags: {', '.join(model.tags)})") from None
    return out


def is_multi_worker(model) -> bool:
    strategy = model.strategy or (tf.distribute.get_strategy() if tf.distribute.has_strategy() else None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def pairs_dataset(model, tokens, tags, source_scheme: str, name: str, batch_size: int, rng=None) -> tf.data.Dataset:
    """Length-bucketed padded batches of in-memory pairs (tags in ``source_scheme``), shuffled
    when ``rng`` is given."""
    tokens, tags = split_long(model, tokens, tags)
    ids = model.embedding.encode_many(tokens)
    targets = tag_ids(model, to_scheme(tags, source_scheme, model.tag_scheme, name), name)
    lengths = np.array([len(s) for s in ids])
    if is_multi_worker(model):
        return _graph_dataset(model, ids, targets, bucketed_batches(lengths, batch_size, rng), rng is not None)

    def batches():
        for index in bucketed_batches(lengths, batch_size, rng):
            yield pad_batch([ids[i] for i in index]), pad_batch([targets[i] for i in index])

    count = len(bucketed_batches(lengths, batch_size, None))
    dataset = tf.data.Dataset.from_generator(batches, output_signature=(model.input_spec(), _TAG_SPEC))
    return dataset.apply(tf.data.experimental.assert_cardinality(count)).prefetch(2)


_TAG_SPEC = tf.TensorSpec([None, None], tf.int32)


def _graph_dataset(model, ids, targets, batches, shuffle: bool) -> tf.data.Dataset:
    """The bucketed batches as a pure graph dataset (no Python generator), which
    ``MultiWorkerMirroredStrategy`` can shard across workers. Batch composition is fixed;
    the batch order is reshuffled every epoch."""
    sentences = tf.RaggedTensor.from_row_lengths(np.concatenate(ids), [len(s) for s in ids])
    tags = tf.RaggedTensor.from_row_lengths(np.concatenate(targets), [len(t) for t in targets])
    members = tf.ragged.constant([b.tolist() for b in batches], dtype=tf.int64)
    order = tf.data.Dataset.range(len(batches))
    if shuffle:
        order = order.shuffle(len(batches), seed=model.seed, reshuffle_each_iteration=True)
    return order.map(lambda i: (tf.gather(sentences, members[i]).to_tensor(),
                                tf.gather(tags, members[i]).to_tensor())).prefetch(2)


def scan_stream(model, stream, data_scheme: str) -> tuple[str, list[str] | None]:
    """One pass over a stream of pairs: builds the embedding's vocabulary if the model is not
    built yet; returns the data's scheme and its entity types (``None`` if already built)."""
    prefixes, types = set(), set()

    def sentences():
        for i, (tokens, tags) in enumerate(stream):
            for tag in tags:
                if tag != "O":
                    if len(tag) < 3 or tag[1] != "-" or tag[0] not in "BIESM":
                        raise InputError(f"training data item {i}: malformed tag {tag!r} "
                                         "(expected O or B-TYPE, I-TYPE, ...)")
                    prefixes.add(tag[:2])
                    types.add(tag[2:])
            yield tokens

    building = model.network is None
    if building:
        model.embedding.build_vocab(sentences())  # the vocabulary does not depend on the scheme
    else:
        for _ in sentences():
            pass
    source = scheme_of_prefixes(prefixes) if data_scheme == "auto" else normalize_scheme(data_scheme)
    return source, (sorted(types) if building else None)


def stream_dataset(model, stream, scheme: str, batch_size: int, rng) -> tf.data.Dataset:
    """Padded batches of a stream of pairs, re-read every epoch, shuffled within pools."""
    def encoded():
        for i, (tokens, tags) in enumerate(stream):
            name = f"training data item {i}"
            for chunk, chunk_tags in zip(*split_long(model, [tokens], [tags])):
                internal = to_scheme([chunk_tags], scheme, model.tag_scheme, name)
                yield model.embedding.encode(chunk), tag_ids(model, internal, name)[0]

    def batches():
        for batch in stream_batches(encoded(), lambda item: len(item[0]), batch_size, rng):
            yield pad_batch([ids for ids, _ in batch]), pad_batch([tags for _, tags in batch])

    return tf.data.Dataset.from_generator(batches, output_signature=(model.input_spec(), _TAG_SPEC)).prefetch(2)
