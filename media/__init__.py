"""Media: one aiortc peer per participant, RTP-level forwarding of encoded media, keyframe relay, ICE configuration."""  # noqa: E501
