"""Utilities (dosna.util.mpi)."""
