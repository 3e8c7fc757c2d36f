"""Corpus: synthesis of the bilingual normal+ASMR corpus, importers, splits, test sets."""
