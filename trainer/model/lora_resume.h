// lora_resume.h: what resuming a LoRA run needs beyond its PEFT files: the adapters' AdamW
// moments (DIR/adapter_optimizer.safetensors: "exp_avg", "exp_avg_sq", each vkt_lora_count
// floats in the parameter layout) and the base the adapters were trained on
// (DIR/lora_base.json: its directory and the size and FNV-1a 64 hash of its config.json and
// every .safetensors file), so a run resumes on that same base or not at all.
#ifndef VKT_LORA_RESUME_H
#define VKT_LORA_RESUME_H

#include <jansson.h>
#include <stddef.h>

#include "lora.h"

// The identity of the base in directory `base` (reads every weight file once).
vkt_status vkt_lora_base_identity(const char *base, json_t **out, vkt_error *err);
// Writes the moments and the base's identity into dir (each to a temporary file, renamed).
vkt_status vkt_lora_save_resume(vkt_lora *a, const char *dir, const json_t *base_id);
// The base of the run saved in dir (into base[n]), after checking that its files are the
// ones the adapters were trained on; an error names the file that changed or went missing.
vkt_status vkt_lora_resume_base(const char *dir, char *base, size_t n, vkt_error *err);
// Restores the moments saved in dir (sizes checked against a).
vkt_status vkt_lora_load_optim(vkt_lora *a, const char *dir);

#endif
