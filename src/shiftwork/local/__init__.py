"""The embedded stack: moto server, its bootstrap, local event delivery, a subprocess launcher, persistence."""
