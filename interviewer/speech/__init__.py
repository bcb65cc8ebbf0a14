"""Spoken answers: recordings checked and decoded, transcribed on this machine (or by an endpoint), and the
delivery figures a transcript's word timestamps give.

A transcript becomes an answer like typed text; nothing here grades. `audio` checks and decodes recordings,
`whisper_model` joins the shipped Whisper base model once, `transcribers` holds the `Transcriber` protocol and its
offline and endpoint implementations behind one fallback rule, `delivery` turns word timestamps into figures.
"""
