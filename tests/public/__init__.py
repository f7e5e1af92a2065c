"""Tests of the public information pages and the choice of département."""
