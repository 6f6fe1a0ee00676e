"""The tracker's words: vocabulary, Japanese date conventions, languages, plain wording."""
