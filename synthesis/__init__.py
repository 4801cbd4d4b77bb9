"""Synthesis of fetal-ultrasound images with DCGANs: plain Python and PyTorch, no Django.

* `synthesis.preprocessing`: the one resize and the one PNG encoder that every step of the tool uses for
  real and synthetic images alike.
* `synthesis.config`: what describes a training run (`TrainingConfig`, the architectures, file names), without torch.
* `synthesis.models`: DCGAN64 and DCGAN128 (Radford et al. 2016).
* `synthesis.data`: choosing, loading and augmenting training images.
* `synthesis.training`: the training loop, `train`, with snapshots and exact resumption.
* `synthesis.generation`: synthetic images and sample grids from a snapshot.
* `synthesis.locking`: file locks that die with their holder, such as a run directory's one trainer.
* `python -m synthesis train|generate`: the command line.
"""
