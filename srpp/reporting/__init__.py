"""The half-yearly data protocol: reported indicator values per municipality and per supplier contract."""
