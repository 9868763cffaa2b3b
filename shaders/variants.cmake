# Shader variants compiled from one source with -D defines (see CMakeLists.txt).
vkt_shader(softmax_bwd softmax.comp -DBACKWARD=1)
vkt_shader(attention_fwd_texel attention_fwd.comp -DKV_TEXEL=1)
vkt_shader(attention_bwd_dq_texel attention_bwd_dq.comp -DKV_TEXEL=1)
vkt_shader(attention_bwd_dkv_texel attention_bwd_dkv.comp -DKV_TEXEL=1)
