"""The original's dosna.support package (its pyclovis binding for the sage
backend is not provided: the Clovis/Motr library is not packaged)."""
