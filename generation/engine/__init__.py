"""The generation engine: pure PyTorch/NumPy, imports nothing from Django.

Modules the web process uses (MIDI I/O and limits, parameter and checkpoint-header checks) import no torch.
"""
