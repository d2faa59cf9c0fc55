"""A plain, hand-written TRL DPO + LoRA script: the baseline that bench/overhead.py compares rl-agent to.

Same model, data and settings as rl-agent's default DPO run, written the way the TRL docs would. On a CUDA
machine it trains on the GPU in bf16 (bench/gpu.py), else on the CPU (bench/overhead.py).
    python bench/plain_trl_dpo.py MODEL_DIR TRAIN_JSONL OUTPUT_DIR STEPS
"""

import json
import sys

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer

model_dir, train_file, output_dir, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = [json.loads(line) for line in open(train_file, encoding="utf-8") if line.strip()]
dataset = Dataset.from_list(
    [
        {
            "prompt": [{"role": "user", "content": r["prompt"]}],
            "chosen": [{"role": "assistant", "content": r["chosen"]}],
            "rejected": [{"role": "assistant", "content": r["rejected"]}],
        }
        for r in rows
    ]
)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype="auto")
args = DPOConfig(
    output_dir=output_dir,
    max_steps=steps,
    learning_rate=5e-4,
    beta=0.1,
    loss_type=["sigmoid", "sft"],
    loss_weights=[1.0, 1.0],
    per_device_train_batch_size=8,
    gradient_accumulation_steps=1,
    max_length=128,
    gradient_checkpointing=False,
    bf16=torch.cuda.is_available(),
    use_cpu=not torch.cuda.is_available(),
    save_strategy="steps",
    save_steps=20,
    save_total_limit=2,
    logging_steps=5,
    lr_scheduler_type="constant_with_warmup",
    warmup_steps=min(5, steps // 10),
    seed=0,
    report_to="none",
)
peft_config = LoraConfig(
    task_type="CAUSAL_LM",
    r=16,
    lora_alpha=32,
    lora_dropout=0.0,
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
)
trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config)
result = trainer.train()
print("TRAIN_METRICS " + json.dumps(result.metrics))
trainer.save_model(output_dir + "/adapter")
