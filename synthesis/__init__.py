"""Synthesis of fetal-ultrasound images with DCGANs: plain Python and PyTorch, no Django.

`synthesis.preprocessing` holds the one resize and the one PNG encoder that every step of the tool uses
for real and synthetic images alike.
"""
