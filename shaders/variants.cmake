# variants.cmake: shader variants by -D defines (see vkt_shader in CMakeLists.txt).
vkt_shader(layernorm_fwd_sg layernorm_fwd.comp -DVKT_ROW_SUBGROUP=1)
vkt_shader(rmsnorm_fwd layernorm_fwd.comp -DRMSNORM=1)
vkt_shader(rmsnorm_fwd_sg layernorm_fwd.comp -DRMSNORM=1 -DVKT_ROW_SUBGROUP=1)
vkt_shader(layernorm_bwd_sg layernorm_bwd.comp -DVKT_ROW_SUBGROUP=1)
vkt_shader(rmsnorm_bwd layernorm_bwd.comp -DRMSNORM=1)
vkt_shader(rmsnorm_bwd_sg layernorm_bwd.comp -DRMSNORM=1 -DVKT_ROW_SUBGROUP=1)
vkt_shader(gelu_bwd gelu.comp -DBWD=1)
vkt_shader(swiglu_bwd swiglu.comp -DBWD=1)
