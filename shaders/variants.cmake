vkt_shader(cross_entropy_sg cross_entropy.comp -DUSE_SUBGROUP=1)
