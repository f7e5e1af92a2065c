"""Domain rules in plain Python: no Flask, no requests, no templates; the tests call them directly."""
