"""AWS access: injected sessions, and the embedded AWS used by the demo and the tests."""
