# variants.cmake: shader variants compiled from one source with -D defines.
# Included by CMakeLists.txt; each line is vkt_shader(<variant_name> <file.comp> <defines>).

# matmul, both paths, every transpose (nn = C = A B, nt = A B^T, tn = A^T B, tt = A^T B^T).
# CPU path: each operand bound as RGBA32F (4) or R32F (1) texels, chosen per call by
# the row alignment (runtime/op_matmul.c).
foreach(ta 0 1)
  foreach(tb 0 1)
    if(ta)
      set(a t)
    else()
      set(a n)
    endif()
    if(tb)
      set(b t)
    else()
      set(b n)
    endif()
    vkt_shader(matmul_tiled_${a}${b} matmul_tiled.comp -DTRANS_A=${ta} -DTRANS_B=${tb})
    foreach(va 0 1)
      foreach(vb 0 1)
        # suffix: 1 = R32F, 4 = RGBA32F, for A then B (e.g. matmul_texel_nt_41)
        math(EXPR wa "1 + 3 * ${va}")
        math(EXPR wb "1 + 3 * ${vb}")
        vkt_shader(matmul_texel_${a}${b}_${wa}${wb} matmul_texel.comp -DTRANS_A=${ta} -DTRANS_B=${tb}
                   -DA_VEC4=${va} -DB_VEC4=${vb})
      endforeach()
    endforeach()
  endforeach()
endforeach()

# softmax backward
vkt_shader(softmax_bwd softmax.comp -DBACKWARD=1)
# variants.cmake: shader variants by -D defines (see vkt_shader in CMakeLists.txt).
vkt_shader(layernorm_fwd_sg layernorm_fwd.comp -DVKT_ROW_SUBGROUP=1)
vkt_shader(rmsnorm_fwd layernorm_fwd.comp -DRMSNORM=1)
vkt_shader(rmsnorm_fwd_sg layernorm_fwd.comp -DRMSNORM=1 -DVKT_ROW_SUBGROUP=1)
vkt_shader(layernorm_bwd_sg layernorm_bwd.comp -DVKT_ROW_SUBGROUP=1)
vkt_shader(rmsnorm_bwd layernorm_bwd.comp -DRMSNORM=1)
vkt_shader(rmsnorm_bwd_sg layernorm_bwd.comp -DRMSNORM=1 -DVKT_ROW_SUBGROUP=1)
vkt_shader(gelu_bwd gelu.comp -DBWD=1)
vkt_shader(swiglu_bwd swiglu.comp -DBWD=1)
vkt_shader(cross_entropy_sg cross_entropy.comp -DUSE_SUBGROUP=1)
vkt_shader(elementwise_vec4 elementwise.comp -DVEC4=1)
vkt_shader(attention_fwd_texel attention_fwd.comp -DKV_TEXEL=1)
vkt_shader(attention_bwd_dq_texel attention_bwd_dq.comp -DKV_TEXEL=1)
vkt_shader(attention_bwd_dkv_texel attention_bwd_dkv.comp -DKV_TEXEL=1)
vkt_shader(attention_fwd_texel4 attention_fwd.comp -DKV_TEXEL=1 -DKV_VEC4=1)
vkt_shader(attention_bwd_dq_texel4 attention_bwd_dq.comp -DKV_TEXEL=1 -DKV_VEC4=1)
vkt_shader(attention_bwd_dkv_texel4 attention_bwd_dkv.comp -DKV_TEXEL=1 -DKV_VEC4=1)
vkt_shader(cross_entropy_ent cross_entropy.comp -DENTROPY=1)
vkt_shader(cross_entropy_ent_sg cross_entropy.comp -DENTROPY=1 -DUSE_SUBGROUP=1)
