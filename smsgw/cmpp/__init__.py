"""CMPP 2.0 / 3.0 (China Mobile Peer to Peer, QB-GF-028-2003) for the SMS channel.

Standard library only, no Django: `pdu` (codec), `msgid`, `auth`, `text`
(encodings, segmentation, reassembly), `ratelimit`, `transport` (framing and
batched writes), `session` (asyncio client), `simulator` (ISMG server), `cli`
(`python -m smsgw.cmpp simulate|send|bench`).
"""
