"""STCN memory network (Cheng et al., NeurIPS 2021): network, memory and propagator."""
