# Shader variants compiled from one source with -D defines (see CMakeLists.txt).
vkt_shader(softmax_bwd softmax.comp -DBACKWARD=1)
