"""Multi-target tracking: small swappable stages over tracks held in numpy arrays.

In the manner of Stone Soup the work is split into a motion model (prediction), measurement
models, gating (hypothesiser), association (associator), the Kalman update (updater),
initiation and the track lifecycle (confirmation and deletion). Unlike Stone Soup, every
stage works on all tracks or all candidate pairs at once, as arrays.
"""
