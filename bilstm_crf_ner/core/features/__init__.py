"""Token features as integer ids, in numpy so the runtime computes exactly what the model trained on.

- :mod:`.token_encoder`: :class:`TokenEncoder` (token, bigram and lexicon ids of a token list);
- :mod:`.lexicon`: :class:`Lexicon`, dictionary-word matching (a character trie walked in batches);
- :mod:`.hashtable`: :class:`IntHashTable`, vectorised int64 lookups;
- :mod:`.lexicon_files`: word-list files and jieba's dictionary;
- :mod:`.codes`: the code-point packing these share.
"""

from .hashtable import IntHashTable
from .lexicon import Lexicon
from .lexicon_files import jieba_dictionary, read_lexicon
from .token_encoder import END, SEPARATOR, TokenEncoder, bigrams

__all__ = ["END", "SEPARATOR", "IntHashTable", "Lexicon", "TokenEncoder", "bigrams", "jieba_dictionary", "read_lexicon"]
