"""Open data: the OCDS 1.1 release packages of the region's procurement (``/api/ocds``)."""
