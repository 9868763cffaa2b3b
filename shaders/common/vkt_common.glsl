// vkt_common.glsl: conventions shared by every shader.
// Spec constants 0-2 are the workgroup size; ops pass shapes and element offsets
// (vkt_bind_shift: how many floats the binding starts before the view) in push constants.
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
