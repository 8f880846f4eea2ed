"""phyll-testosc: a coupled-oscillator chain, written the way docs/writing-a-backend.md says
(parameters declared once on the class, a lazy ``"module:Class"`` factory), that the core's
tests pip-install to exercise the backend authors' kit through real entry-point discovery."""
