"""Test helpers for transformer families beyond BERT: tiny Hugging Face checkpoints and numpy forward passes.

Same idea as ``bert_support``, for the Hugging Face ``model_type`` families in ``FAMILIES``:

* ``tiny_config`` writes the ``config.json`` dict that family's transformers config class saves;
* ``random_weights`` gives random float32 parameters under the full names a real checkpoint has on disk
  (``roberta.``/``albert.``/... prefixes, ``[out, in]`` matrices), plus a few pretraining-head parameters
  (``lm_head.*``, ``predictions.*``, ...) that a reader must ignore;
* ``tiny_tokenizer`` trains a small ``tokenizers`` tokenizer shaped like the family's real ``tokenizer.json``;
* ``write_checkpoint`` writes the folder ``from_pretrained`` reads;
* ``numpy_forward`` is an independent reference forward pass, written from the equations of the Hugging Face
  modeling code (never from keras-hub), against which an encoder's hidden states are checked.

Only numpy, safetensors and tokenizers are used (plus ``bert_support``'s numpy BERT for ``"bert"``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from bert_support import _gelu, _layer_norm, numpy_bert
from bert_support import random_weights as _bert_random_weights

FAMILIES = ("bert", "roberta", "xlm-roberta", "albert", "distilbert", "electra", "deberta-v2")

#: The checkpoint parameter prefix (the modeling code's ``base_model_prefix``) of each family.
PREFIX = {"bert": "bert", "roberta": "roberta", "xlm-roberta": "roberta", "albert": "albert",
          "distilbert": "distilbert", "electra": "electra", "deberta-v2": "deberta"}

#: The tokenizer each family ships: ``(kind, special tokens in id order from 0)``; a mask token that is not
#: listed is added as the last id, as in the real vocabularies (RoBERTa ``<mask>``, DeBERTa-v3 ``[MASK]``).
FAMILY_TOKENIZER = {
    "bert": ("wordpiece", ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")),
    "distilbert": ("wordpiece", ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")),
    "electra": ("wordpiece", ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")),
    "roberta": ("bpe", ("<s>", "<pad>", "</s>", "<unk>")),
    "xlm-roberta": ("unigram", ("<s>", "<pad>", "</s>", "<unk>")),
    "albert": ("unigram", ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")),
    "deberta-v2": ("unigram", ("[PAD]", "[CLS]", "[SEP]", "[UNK]")),
}

_TRANSFORMERS_VERSION = "4.57.6"

# What each family's config class saves (transformers 4.x ``save_pretrained``, as on the Hub), at tiny sizes.
_BERT_LIKE = {"attention_probs_dropout_prob": 0.1, "classifier_dropout": None, "hidden_act": "gelu",
              "hidden_dropout_prob": 0.1, "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64,
              "layer_norm_eps": 1e-12, "max_position_embeddings": 64, "num_attention_heads": 4,
              "num_hidden_layers": 2, "pad_token_id": 0, "position_embedding_type": "absolute",
              "type_vocab_size": 2, "use_cache": True}
_ROBERTA_LIKE = dict(_BERT_LIKE, bos_token_id=0, eos_token_id=2, pad_token_id=1, layer_norm_eps=1e-5,
                     max_position_embeddings=64 + 2, type_vocab_size=1)
_CONFIGS = {
    "bert": dict(_BERT_LIKE, architectures=["BertForMaskedLM"]),
    "roberta": dict(_ROBERTA_LIKE, architectures=["RobertaForMaskedLM"]),
    "xlm-roberta": dict(_ROBERTA_LIKE, architectures=["XLMRobertaForMaskedLM"]),
    "electra": dict(_BERT_LIKE, architectures=["ElectraForPreTraining"], embedding_size=16,
                    summary_activation="gelu", summary_last_dropout=0.1, summary_type="first", summary_use_proj=True),
    "albert": {"architectures": ["AlbertForMaskedLM"], "attention_probs_dropout_prob": 0.0, "bos_token_id": 2,
               "classifier_dropout_prob": 0.1, "down_scale_factor": 1, "embedding_size": 16, "eos_token_id": 3,
               "gap_size": 0, "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "hidden_size": 32,
               "initializer_range": 0.02, "inner_group_num": 1, "intermediate_size": 64, "layer_norm_eps": 1e-12,
               "max_position_embeddings": 64, "net_structure_type": 0, "num_attention_heads": 4,
               "num_hidden_groups": 1, "num_hidden_layers": 3, "num_memory_blocks": 0, "pad_token_id": 0,
               "position_embedding_type": "absolute", "type_vocab_size": 2},
    "distilbert": {"activation": "gelu", "architectures": ["DistilBertForMaskedLM"], "attention_dropout": 0.1,
                   "dim": 32, "dropout": 0.1, "hidden_dim": 64, "initializer_range": 0.02,
                   "max_position_embeddings": 64, "n_heads": 4, "n_layers": 2, "pad_token_id": 0, "qa_dropout": 0.1,
                   "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": False, "tie_weights_": True},
    "deberta-v2": {"architectures": ["DebertaV2ForMaskedLM"], "attention_probs_dropout_prob": 0.1,
                   "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 32, "initializer_range": 0.02,
                   "intermediate_size": 64, "layer_norm_eps": 1e-7, "legacy": True, "max_position_embeddings": 64,
                   "max_relative_positions": -1, "norm_rel_ebd": "layer_norm", "num_attention_heads": 4,
                   "num_hidden_layers": 2, "pad_token_id": 0, "pooler_dropout": 0, "pooler_hidden_act": "gelu",
                   "pooler_hidden_size": 32, "pos_att_type": ["p2c", "c2p"], "position_biased_input": False,
                   "position_buckets": 16, "relative_attention": True, "share_att_key": True,
                   "type_vocab_size": 0},
}

# Per-layer parameter names, relative to a layer prefix: attention q/k/v/out, the two layer norms, the FFN.
_BLOCK_NAMES = {
    "bert": ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
             "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"),
    "albert": ("attention.query", "attention.key", "attention.value", "attention.dense", "attention.LayerNorm",
               "ffn", "ffn_output", "full_layer_layer_norm"),
    "distilbert": ("attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm",
                   "ffn.lin1", "ffn.lin2", "output_layer_norm"),
    "deberta-v2": ("attention.self.query_proj", "attention.self.key_proj", "attention.self.value_proj",
                   "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense",
                   "output.LayerNorm"),
}
for _family in ("roberta", "xlm-roberta", "electra"):
    _BLOCK_NAMES[_family] = _BLOCK_NAMES["bert"]


def tiny_config(model_type, vocab_size, **overrides):
    """The ``config.json`` dict of a tiny ``model_type`` checkpoint (hidden 32, 2 layers, 4 heads, FFN 64).

    Keys and defaults are what the family's transformers config class writes: RoBERTa/XLM-R have 64 + 2
    positions and pad id 1, ALBERT shares one layer 3 times over a 16-wide factorized embedding, ELECTRA has a
    16-wide embedding (so ``embeddings_project`` exists), DistilBERT uses its own key names, DeBERTa-v2 is set up
    like DeBERTa-v3 (relative attention with 16 log buckets, shared keys, no absolute positions).
    ``overrides`` replace or add keys.
    """
    if model_type not in _CONFIGS:
        raise ValueError(f"unknown model_type {model_type!r}; expected one of {FAMILIES}")
    config = dict(_CONFIGS[model_type], model_type=model_type, vocab_size=vocab_size, torch_dtype="float32",
                  transformers_version=_TRANSFORMERS_VERSION)
    if model_type == "deberta-v2" and "hidden_size" in overrides and "pooler_hidden_size" not in overrides:
        config["pooler_hidden_size"] = overrides["hidden_size"]
    config.update(overrides)
    return dict(sorted(config.items()))


def _sizes(config):
    """(hidden, intermediate, layers, heads, layer-norm eps, activation) under either naming scheme."""
    if config["model_type"] == "distilbert":
        return (config["dim"], config["hidden_dim"], config["n_layers"], config["n_heads"], 1e-12,
                config["activation"])
    return (config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"],
            config["num_attention_heads"], config["layer_norm_eps"], config["hidden_act"])


def _pos_att_type(config):
    kinds = config.get("pos_att_type") or []
    if isinstance(kinds, str):  # original DeBERTa configs write "p2c|c2p"
        kinds = [k.strip() for k in kinds.lower().split("|")]
    return list(kinds)


def _deberta_span(config):
    """(position_buckets, max_relative_positions, att_span) as DisentangledSelfAttention resolves them."""
    buckets = config.get("position_buckets", -1)
    max_relative = config.get("max_relative_positions", -1)
    if max_relative < 1:
        max_relative = config["max_position_embeddings"]
    return buckets, max_relative, buckets if buckets > 0 else max_relative


def random_weights(config, seed=0, scale=0.2):
    """Random float32 parameters under the names a real checkpoint of ``config``'s family has on disk.

    Everything is random and nonzero (layer-norm scales ``1 + normal``), so a wrong mapping shows; RoBERTa's
    single token-type row is nonzero too. Pretraining heads a real checkpoint carries are included for a reader
    to ignore: BERT ``cls.predictions.*``, RoBERTa/XLM-R ``lm_head.*``, ALBERT ``predictions.*``, DistilBERT
    ``vocab_transform``/``vocab_layer_norm``/``vocab_projector``, ELECTRA ``discriminator_predictions.*``,
    DeBERTa ``lm_predictions.lm_head.*``; BERT, RoBERTa, XLM-R and ALBERT also carry a pooler.
    """
    family = config["model_type"]
    if family == "bert":
        weights = {"bert." + k: v for k, v in _bert_random_weights(config, seed, scale).items()}
        rng = np.random.default_rng(seed + 1)
        h = config["hidden_size"]
        weights.update({
            "cls.predictions.bias": (rng.normal(size=config["vocab_size"]) * scale).astype(np.float32),
            "cls.predictions.transform.dense.weight": (rng.normal(size=(h, h)) * scale).astype(np.float32),
            "cls.predictions.transform.dense.bias": (rng.normal(size=h) * scale).astype(np.float32),
            "cls.predictions.transform.LayerNorm.weight": (1 + rng.normal(size=h) * scale).astype(np.float32),
            "cls.predictions.transform.LayerNorm.bias": (rng.normal(size=h) * scale).astype(np.float32)})
        return weights

    rng = np.random.default_rng(seed)
    h, f, layers, _, _, _ = _sizes(config)
    vocab = config["vocab_size"]
    e = config.get("embedding_size", h)
    p = PREFIX[family] + "."
    w = {}

    def normal(*shape):
        return (rng.normal(size=shape) * scale).astype(np.float32)

    def linear(name, n_out, n_in, bias=True):
        w[name + ".weight"] = normal(n_out, n_in)
        if bias:
            w[name + ".bias"] = normal(n_out)

    def norm(name, n):
        w[name + ".weight"], w[name + ".bias"] = 1 + normal(n), normal(n)

    def block(prefix):
        q, k, v, o, ln1, f1, f2, ln2 = _BLOCK_NAMES[family]
        for name in (q, k, v, o):
            linear(prefix + name, h, h)
        norm(prefix + ln1, h)
        linear(prefix + f1, f, h)
        linear(prefix + f2, h, f)
        norm(prefix + ln2, h)

    w[p + "embeddings.word_embeddings.weight"] = normal(vocab, e)
    if family != "deberta-v2" or config.get("position_biased_input", True):
        w[p + "embeddings.position_embeddings.weight"] = normal(config["max_position_embeddings"], e)
    if family != "distilbert" and config.get("type_vocab_size", 0) > 0:
        w[p + "embeddings.token_type_embeddings.weight"] = normal(config["type_vocab_size"], e)
    if family == "deberta-v2" and e != h:
        linear(p + "embeddings.embed_proj", h, e, bias=False)
    norm(p + "embeddings.LayerNorm", h if family == "deberta-v2" else e)  # DeBERTa normalizes after embed_proj

    if family == "albert":
        linear(p + "encoder.embedding_hidden_mapping_in", h, e)
        for g in range(config["num_hidden_groups"]):
            for i in range(config["inner_group_num"]):
                block(f"{p}encoder.albert_layer_groups.{g}.albert_layers.{i}.")
    elif family == "distilbert":
        for i in range(layers):
            block(f"{p}transformer.layer.{i}.")
    else:
        if family == "electra" and e != h:
            linear(p + "embeddings_project", h, e)
        for i in range(layers):
            block(f"{p}encoder.layer.{i}.")
            if family == "deberta-v2" and config.get("relative_attention") and not config.get("share_att_key"):
                kinds = _pos_att_type(config)
                if "c2p" in kinds:
                    linear(f"{p}encoder.layer.{i}.attention.self.pos_key_proj", h, h)
                if "p2c" in kinds:
                    linear(f"{p}encoder.layer.{i}.attention.self.pos_query_proj", h, h)
    if family == "deberta-v2":
        if config.get("relative_attention"):
            w[p + "encoder.rel_embeddings.weight"] = normal(2 * _deberta_span(config)[2], h)
        if "layer_norm" in str(config.get("norm_rel_ebd", "none")).lower():
            norm(p + "encoder.LayerNorm", h)
    if family in ("roberta", "xlm-roberta", "albert"):
        linear(p + "pooler.dense" if family != "albert" else p + "pooler", h, h)

    # Pretraining heads a real checkpoint carries (never part of the encoder).
    if family in ("roberta", "xlm-roberta"):
        linear("lm_head.dense", h, h)
        norm("lm_head.layer_norm", h)
        w["lm_head.bias"] = normal(vocab)
    elif family == "albert":
        linear("predictions.dense", e, h)
        norm("predictions.LayerNorm", e)
        w["predictions.bias"] = normal(vocab)
    elif family == "distilbert":
        linear("vocab_transform", h, h)
        norm("vocab_layer_norm", h)
        w["vocab_projector.bias"] = normal(vocab)
    elif family == "electra":
        linear("discriminator_predictions.dense", h, h)
        linear("discriminator_predictions.dense_prediction", 1, h)
    elif family == "deberta-v2":
        linear("lm_predictions.lm_head.dense", h, h)
        norm("lm_predictions.lm_head.LayerNorm", h)
        w["lm_predictions.lm_head.bias"] = normal(vocab)
    return w


# --------------------------------------------------------------------------------------------- tokenizers

def _roles(tokens):
    """Which special token plays which part, by the two naming conventions (``<s>`` vs ``[CLS]`` style)."""
    def pick(*names):
        return next((t for t in names if t in tokens), None)
    return {"cls": pick("[CLS]", "<s>"), "sep": pick("[SEP]", "</s>"), "pad": pick("[PAD]", "<pad>"),
            "unk": pick("[UNK]", "<unk>"), "mask": pick("[MASK]", "<mask>")}


def _non_ascii_chars(texts):
    return sorted({c for text in texts for c in text if ord(c) > 127 and not c.isspace()})


def tiny_tokenizer(kind, texts, vocab_size=1000, special_tokens=None, lowercase=None):
    """A ``tokenizers.Tokenizer`` trained on ``texts``, shaped like a family's real ``tokenizer.json``.

    ``kind``: ``"bpe"`` (RoBERTa byte-level BPE: ByteLevel pre-tokenizer without prefix space, ByteLevel decoder,
    RobertaProcessing, ``<s>``=0 ``<pad>``=1 ``</s>``=2 ``<unk>``=3, ``<mask>`` last), ``"unigram"``
    (SentencePiece Unigram as transformers converts XLM-R/ALBERT/DeBERTa-v3: NFKC-ish space-collapsing
    normalizer, Metaspace with ``prepend_scheme="always"``, ``cls $A sep`` template) or ``"wordpiece"`` (BERT:
    BertNormalizer, BertPreTokenizer, ``[CLS] $A [SEP]``). ``special_tokens`` are the special tokens in id order
    from 0 (default: the first family of that kind in ``FAMILY_TOKENIZER``); a mask token not among them is added
    last. Unigram's flavour follows them: ``<pad>`` with ``[CLS]`` is ALBERT (lowercased, accents stripped),
    ``[PAD]`` is DeBERTa-v3 (stripped), ``<s>`` is XLM-R. ``lowercase`` defaults to True for WordPiece and ALBERT.
    Every single non-ASCII character of ``texts`` (CJK included) is in the vocabulary.
    """
    if special_tokens is None:
        special_tokens = next(s for k, s in FAMILY_TOKENIZER.values() if k == kind)
    special_tokens = list(special_tokens)
    roles = _roles(special_tokens)
    angle = roles["cls"] == "<s>"
    albert, deberta = roles["cls"] == "[CLS]" and roles["pad"] == "<pad>", roles["pad"] == "[PAD]"
    if lowercase is None:
        lowercase = kind == "wordpiece" or (kind == "unigram" and albert)
    texts = list(texts)
    if kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        if lowercase:
            tok.normalizer = normalizers.Lowercase()
        # Byte-level BPE only learns a CJK character if its bytes merge; every non-ASCII character is fed as a
        # word of its own (newline-separated: the newlines are words without pairs), more often than any byte
        # pair occurs in the texts, so its merges come first and it is one token.
        pairs = Counter(pair for t in texts for b in [t.encode("utf-8")] for pair in zip(b, b[1:]))
        weight = max(pairs.values(), default=0) + 1
        corpus = texts + ["\n".join([c] * weight) for c in _non_ascii_chars(texts)]
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    elif kind == "unigram":
        # transformers' SpmConverter shapes, with NFKC (+ whitespace controls to spaces) standing in for the
        # Precompiled nmt_nfkc charsmap, ALBERT's [``/'' quotes, NFKD, StripAccents, Lowercase] first; Strip (as
        # DeBERTa-v3's converter has) drops outer spaces like SentencePiece and transformers 5 do.
        tok = Tokenizer(models.Unigram())
        steps = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"')] if albert else []
        if lowercase:
            steps += [normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()]
        steps += [normalizers.Strip(), normalizers.NFKC(), normalizers.Replace(Regex(r"[\t\n\r\f\v]"), " "),
                  normalizers.Replace(Regex(" {2,}"), " ")]
        tok.normalizer = normalizers.Sequence(steps)
        metaspace = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
        tok.pre_tokenizer = pre_tokenizers.Sequence([metaspace]) if deberta else metaspace
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
        corpus = texts
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=special_tokens,
                                          unk_token=roles["unk"], show_progress=False)
    elif kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token=roles["unk"]))
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                    lowercase=lowercase)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece(prefix="##")
        _train_wordpiece(tok, texts, vocab_size, special_tokens, roles["unk"])
    else:
        raise ValueError(f"unknown tokenizer kind {kind!r}; expected 'bpe', 'unigram' or 'wordpiece'")
    if kind != "wordpiece":
        tok.train_from_iterator(corpus, trainer)
    if kind == "unigram":
        tok = _canonical_unigram(tok, len(special_tokens), roles["unk"])
    if roles["mask"] is None:
        mask = "<mask>" if angle else "[MASK]"
        tok.add_special_tokens([AddedToken(mask, lstrip=True, normalized=False, special=True)])
        roles["mask"] = mask
    cls, sep = roles["cls"], roles["sep"]
    cls_id, sep_id = tok.token_to_id(cls), tok.token_to_id(sep)
    if kind == "bpe":
        tok.post_processor = processors.RobertaProcessing((sep, sep_id), (cls, cls_id), trim_offsets=True,
                                                          add_prefix_space=False)
    elif angle:  # XLM-R: <s> A </s></s> B </s>
        tok.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} {sep} $B {sep}",
            special_tokens=[(cls, cls_id), (sep, sep_id)])
    else:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
            special_tokens=[(cls, cls_id), (sep, sep_id)])
    normalize = tok.normalizer.normalize_str if tok.normalizer is not None else str

    def one_token(c):
        pieces = [t for t in tok.encode(c, add_special_tokens=False).tokens if t != "▁"]
        return len(pieces) == 1 and pieces[0] != roles["unk"]

    missing = [c for c in _non_ascii_chars(texts) if len(normalize(c).strip()) == 1 and not one_token(c)]
    if missing:
        raise ValueError(f"vocab_size={vocab_size} is too small to hold the characters {''.join(missing)!r}")
    return tok


def _train_wordpiece(tok, texts, vocab_size, special_tokens, unk):
    """WordPieceTrainer's algorithm (BPE merges, ``##`` on word-internal pieces), made deterministic.

    WordPieceTrainer numbers ``##x`` pieces in hash-map order, so merge ties, and so the vocabulary, change from
    run to run. Here word-internal characters are renamed to private-use characters, a plain BpeTrainer (whose
    alphabet is sorted; every character also comes as a word-initial piece, as in WordPieceTrainer) learns the
    merges on the normalized, pre-tokenized words, and the names are turned back.
    """
    lines = [[w for w, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(t))] for t in texts]
    private = {c: chr(0xF0000 + i) for i, c in enumerate(sorted({c for ws in lines for w in ws for c in w[1:]}))}
    public = {v: k for k, v in private.items()}
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    bpe.train_from_iterator([" ".join(w[0] + "".join(private[c] for c in w[1:]) for w in ws) for ws in lines],
                            trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens,
                                                initial_alphabet=sorted({c for ws in lines for w in ws for c in w}),
                                                show_progress=False))
    vocab = {}
    for piece, _ in sorted(bpe.get_vocab().items(), key=lambda item: item[1]):
        vocab.setdefault(("##" if piece[0] in public else "") + "".join(public.get(c, c) for c in piece), len(vocab))
    tok.model = models.WordPiece(vocab, unk_token=unk, max_input_chars_per_word=100)
    tok.add_special_tokens(special_tokens)


def _canonical_unigram(tok, n_special, unk):
    """The trained Unigram with pieces ordered by (rounded) score then text, so runs give identical files.

    UnigramTrainer's EM sums in hash-map order: the same pieces come out, with scores differing in the last bits
    and so in a different order from run to run. (On tiny, heavily repeated corpora, exact Viterbi ties can still
    move a score further than the rounding hides.)
    """
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    rest = sorted(([piece, round(score, 6)] for piece, score in vocab[n_special:]), key=lambda x: (-x[1], x[0]))
    data["model"]["vocab"] = vocab[:n_special] + rest
    data["model"]["unk_id"] = [piece for piece, _ in data["model"]["vocab"]].index(unk)
    return Tokenizer.from_str(json.dumps(data))


def family_tokenizer(model_type, texts, vocab_size=1000):
    """``tiny_tokenizer`` with ``model_type``'s kind and special tokens (``FAMILY_TOKENIZER``)."""
    kind, specials = FAMILY_TOKENIZER[model_type]
    return tiny_tokenizer(kind, texts, vocab_size=vocab_size, special_tokens=specials)


_TOKENIZER_CLASS = {"bert": "BertTokenizer", "roberta": "RobertaTokenizer", "xlm-roberta": "XLMRobertaTokenizer",
                    "albert": "AlbertTokenizer", "distilbert": "DistilBertTokenizer",
                    "electra": "ElectraTokenizer", "deberta-v2": "DebertaV2Tokenizer"}


def _lowercases(tokenizer):
    normalizer = json.loads(tokenizer.to_str()).get("normalizer") or {}
    found = json.dumps(normalizer)
    return '"type": "Lowercase"' in found or '"lowercase": true' in found


def tokenizer_config(model_type, tokenizer, max_length=512):
    """The ``tokenizer_config.json`` dict the family ships next to ``tokenizer.json``."""
    roles = _roles(set(tokenizer.get_vocab()))
    lower = _lowercases(tokenizer)
    config = {"clean_up_tokenization_spaces": model_type not in ("roberta", "xlm-roberta", "deberta-v2"),
              "cls_token": roles["cls"], "mask_token": roles["mask"], "model_max_length": max_length,
              "pad_token": roles["pad"], "sep_token": roles["sep"], "tokenizer_class": _TOKENIZER_CLASS[model_type],
              "unk_token": roles["unk"]}
    if model_type in ("bert", "distilbert", "electra"):
        config.update(do_lower_case=lower, strip_accents=None, tokenize_chinese_chars=True)
    elif model_type == "roberta":
        config.update(add_prefix_space=False, bos_token="<s>", eos_token="</s>", errors="replace", trim_offsets=True)
    elif model_type == "xlm-roberta":
        config.update(bos_token="<s>", eos_token="</s>")
    elif model_type == "albert":
        config.update(bos_token="[CLS]", eos_token="[SEP]", do_lower_case=lower, keep_accents=False,
                      remove_space=True)
    elif model_type == "deberta-v2":
        config.update(bos_token="[CLS]", eos_token="[SEP]", do_lower_case=lower, split_by_punct=False,
                      vocab_type="spm")
    return dict(sorted(config.items()))


def write_checkpoint(folder, config, weights, tokenizer=None):
    """A Hugging Face checkpoint folder: config.json, model.safetensors, tokenizer.json, tokenizer_config.json."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    save_file({k: np.ascontiguousarray(v) for k, v in weights.items()}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})
    if tokenizer is not None:
        max_length = config["max_position_embeddings"]
        if config["model_type"] in ("roberta", "xlm-roberta"):
            max_length -= config["pad_token_id"] + 1  # positions start after padding_idx
        tokenizer.save(str(folder / "tokenizer.json"))
        (folder / "tokenizer_config.json").write_text(json.dumps(
            tokenizer_config(config["model_type"], tokenizer, max_length), indent=2) + "\n")
    return folder


# --------------------------------------------------------------------------------------------- numpy forward

def _act(x, name):
    if name == "relu":
        return np.maximum(x, 0)
    if name in ("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return _gelu(x, name)
    raise ValueError(f"unsupported activation {name!r}")


def _softmax_masked(scores, allowed):
    """Softmax over the last axis with disallowed entries filled by a huge negative (HF's masked_fill)."""
    scores = np.where(allowed, scores, -1e30)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    return probs / probs.sum(-1, keepdims=True)


def make_log_bucket_position(relative_pos, bucket_size, max_position):
    """DeBERTa-v2's log-bucketed relative positions (modeling_deberta_v2.make_log_bucket_position).

    Within ``bucket_size // 2`` the distance is kept; beyond, it grows logarithmically up to ``max_position``.
    Computed in float32 as torch does, so values at bucket boundaries round the same way.
    """
    relative_pos = np.asarray(relative_pos, dtype=np.int64)
    sign = np.sign(relative_pos)
    mid = bucket_size // 2
    abs_pos = np.where((relative_pos < mid) & (relative_pos > -mid), mid - 1, np.abs(relative_pos))
    with np.errstate(divide="ignore"):
        ratio = np.log((abs_pos / mid).astype(np.float32)) / np.log(np.float32((max_position - 1) / mid))
        log_pos = np.ceil(ratio * np.float32(mid - 1)) + mid
    return np.where(abs_pos <= mid, relative_pos, log_pos * sign).astype(np.int64)


def deberta_relative_positions(length, config):
    """``[S, S]`` (bucketed) ``query - key`` positions, as DebertaV2Encoder.get_rel_pos builds them."""
    buckets, max_relative, _ = _deberta_span(config)
    rel = np.arange(length)[:, None] - np.arange(length)[None, :]
    if buckets > 0 and max_relative > 0:
        rel = make_log_bucket_position(rel, buckets, max_relative)
    return rel


def _dense(w, name, x):
    y = x @ w[name + ".weight"].T
    return y + w[name + ".bias"] if name + ".bias" in w else y


def _norm(w, name, x, eps):
    return _layer_norm(x, w[name + ".weight"], w[name + ".bias"], eps)


def _block(w, prefix, names, x, mask, heads, eps, act, extra_scores=None, scale_factor=1):
    """One post-LN transformer layer: LN(x + attn(x)), then LN(a + W2 act(W1 a)).

    ``extra_scores(q, k)`` adds DeBERTa's relative terms; ``scale_factor`` scales the sqrt(head_dim) divisor.
    """
    q_name, k_name, v_name, o_name, ln1, f1, f2, ln2 = (prefix + n for n in names)
    b, s, _ = x.shape

    def split(v):
        return v.reshape(b, s, heads, -1).transpose(0, 2, 1, 3)

    q, k, v = (split(_dense(w, n, x)) for n in (q_name, k_name, v_name))
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1] * scale_factor)
    if extra_scores is not None:
        scores = scores + extra_scores(q, k)
    probs = _softmax_masked(scores, mask)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, -1)
    a = _norm(w, ln1, x + _dense(w, o_name, context), eps)
    return _norm(w, ln2, a + _dense(w, f2, _act(_dense(w, f1, a), act)), eps)


def _deberta_scores(w, prefix, config, rel_embeddings, rel_pos, heads):
    """c2p and p2c terms of DisentangledSelfAttention.disentangled_attention_bias, for one layer."""
    kinds = _pos_att_type(config)
    span = _deberta_span(config)[2]
    scale_factor = 1 + ("c2p" in kinds) + ("p2c" in kinds)
    rel = rel_embeddings[:2 * span]
    shared = config.get("share_att_key", False)

    def heads_of(v):  # [2 span, H] -> [heads, 2 span, d]
        return v.reshape(v.shape[0], heads, -1).transpose(1, 0, 2)

    def terms(q, k):
        d = q.shape[-1]
        score = 0.0
        index = np.clip(rel_pos + span, 0, 2 * span - 1)  # [S, S]
        if "c2p" in kinds:
            pos_key = heads_of(_dense(w, prefix + ("attention.self.key_proj" if shared
                                                   else "attention.self.pos_key_proj"), rel))
            c2p = q @ pos_key.transpose(0, 2, 1)[None]  # [B, heads, Sq, 2 span]
            c2p = np.take_along_axis(c2p, np.broadcast_to(index, c2p.shape[:2] + index.shape), axis=-1)
            score = score + c2p / np.sqrt(d * scale_factor)
        if "p2c" in kinds:
            pos_query = heads_of(_dense(w, prefix + ("attention.self.query_proj" if shared
                                                     else "attention.self.pos_query_proj"), rel))
            p2c_index = np.clip(-rel_pos + span, 0, 2 * span - 1)  # rows: keys
            p2c = k @ pos_query.transpose(0, 2, 1)[None]  # [B, heads, Sk, 2 span]
            p2c = np.take_along_axis(p2c, np.broadcast_to(p2c_index, p2c.shape[:2] + p2c_index.shape), axis=-1)
            score = score + p2c.transpose(0, 1, 3, 2) / np.sqrt(d * scale_factor)
        return score

    return terms, scale_factor


def numpy_forward(config, weights, ids, mask):
    """Hidden states after every transformer layer, ``[L, B, S, H]`` float64 (embedding output excluded).

    ``ids`` are right-padded ``[B, S]`` ints, ``mask`` ``[B, S]`` bools; token types are all 0. Only real
    positions are meaningful. Written from the Hugging Face modeling equations of each family.
    """
    family = config["model_type"]
    ids, mask = np.asarray(ids), np.asarray(mask, dtype=bool)
    if family == "bert":
        return numpy_bert({k[len("bert."):]: v for k, v in weights.items() if k.startswith("bert.")}, config, ids, mask)
    if family not in _CONFIGS:
        raise ValueError(f"unknown model_type {family!r}")
    if config.get("conv_kernel_size", 0) > 0:
        raise NotImplementedError("DeBERTa-v2 convolution layers are not modelled")
    h, _, layers, heads, eps, act = _sizes(config)
    p = PREFIX[family] + "."
    w = {k[len(p):]: v.astype(np.float64) for k, v in weights.items() if k.startswith(p)}
    b, s = ids.shape
    names = _BLOCK_NAMES[family]
    pair_mask = mask[:, None, None, :]  # HF BERT-likes: key padding only

    x = w["embeddings.word_embeddings.weight"][ids]
    if family in ("roberta", "xlm-roberta"):
        # create_position_ids_from_input_ids: real tokens count from padding_idx + 1, pads sit at padding_idx.
        pad = config["pad_token_id"]
        real = (ids != pad).astype(np.int64)
        positions = np.cumsum(real, axis=1) * real + pad
        x = x + w["embeddings.position_embeddings.weight"][positions]
    elif "embeddings.position_embeddings.weight" in w:
        x = x + w["embeddings.position_embeddings.weight"][:s][None]
    if "embeddings.token_type_embeddings.weight" in w:
        x = x + w["embeddings.token_type_embeddings.weight"][0]
    if "embeddings.embed_proj.weight" in w:
        x = _dense(w, "embeddings.embed_proj", x)
    x = _norm(w, "embeddings.LayerNorm", x, eps)

    out = []
    if family == "albert":
        x = _dense(w, "encoder.embedding_hidden_mapping_in", x)
        groups, inner = config["num_hidden_groups"], config["inner_group_num"]
        for i in range(layers):
            group = int(i / (layers / groups))
            for j in range(inner):
                x = _block(w, f"encoder.albert_layer_groups.{group}.albert_layers.{j}.", names, x, pair_mask,
                           heads, eps, act)
            out.append(x)
    elif family == "deberta-v2":
        x = x * mask[..., None]
        # get_attention_mask: a query-key pair attends only if both are real.
        pair_mask = mask[:, None, :, None] & mask[:, None, None, :]
        relative = config.get("relative_attention", False)
        if relative:
            rel_embeddings = w["encoder.rel_embeddings.weight"]
            if "layer_norm" in str(config.get("norm_rel_ebd", "none")).lower():
                rel_embeddings = _norm(w, "encoder.LayerNorm", rel_embeddings, eps)
            rel_pos = deberta_relative_positions(s, config)
        for i in range(layers):
            prefix = f"encoder.layer.{i}."
            if relative:
                extra, factor = _deberta_scores(w, prefix, config, rel_embeddings, rel_pos, heads)
            else:  # the divisor still counts the configured c2p/p2c terms
                extra, factor = None, 1 + sum(t in _pos_att_type(config) for t in ("c2p", "p2c"))
            x = _block(w, prefix, names, x, pair_mask, heads, eps, act, extra, factor)
            out.append(x)
    else:
        if family == "electra" and "embeddings_project.weight" in w:
            x = _dense(w, "embeddings_project", x)
        stack = "transformer.layer" if family == "distilbert" else "encoder.layer"
        for i in range(layers):
            x = _block(w, f"{stack}.{i}.", names, x, pair_mask, heads, eps, act)
            out.append(x)
    return np.stack(out)
