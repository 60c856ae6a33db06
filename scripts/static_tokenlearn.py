"""Build a tokenlearn-style static embedding model for memvox (run by scripts/build-static-minilm-tl.sh).

Stages (each cached under --cache, so a rerun only redoes what is missing):
  1. corpus: generic English sentences from two Debian packages, none of them probe text:
     WordNet 3.0 glosses and usage examples (wordnet-base) and fortune cookies (fortunes,
     fortunes-min); deduplicated, shuffled with a fixed seed; the first --n sentences are used.
  2. base: model2vec `distill(pca_dims=None)` of the teacher: one 384-d vector per vocabulary token.
  3. targets: the teacher's own (normalised, mean-pooled) sentence embeddings of the corpus.
  4. training: the token table is trained so that the mean of a sentence's token vectors (tokens
     without special tokens, [UNK] dropped - as model2vec-rs pools) has maximal cosine with the
     teacher's sentence vector; 5% of the corpus is held out and the epoch with the best held-out
     cosine is kept. The probes in probes/ are never read.
  5. projection: uncentred PCA (SVD) of the trained static sentence vectors to --dims; as a linear
     map it commutes with mean pooling, so it is applied to the table rows.
  6. export: model2vec layout (model.safetensors `embeddings` float16, tokenizer.json,
     config.json) plus query_projection.safetensors (the 384 x dims map, tensor `projection`),
     which puts the teacher's own query vectors in the same space (optional, unused by model2vec-rs).
"""
import argparse, glob, json, os, random, re, shutil, sys, time

p = argparse.ArgumentParser()
p.add_argument("--teacher", required=True, help="sentence-transformers directory of the teacher")
p.add_argument("--debs", required=True, help="directory where the Debian packages were unpacked (dpkg -x)")
p.add_argument("--cache", required=True)
p.add_argument("--out", required=True)
p.add_argument("--tokenizer-name", default="sentence-transformers/all-MiniLM-L6-v2")
p.add_argument("--n", type=int, default=30000)
p.add_argument("--epochs", type=int, default=12)
p.add_argument("--lr", type=float, default=3e-3)
p.add_argument("--dims", type=int, default=256)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--seed", type=int, default=13)
a = p.parse_args()
os.makedirs(a.cache, exist_ok=True)

def log(msg):
    print(f"[tokenlearn] {msg}", file=sys.stderr, flush=True)

# 1. corpus ------------------------------------------------------------------------------------
# The fortune files in a fixed order (the shuffle below depends on the input order).
FORTUNES = ("riddles computers wisdom men-women pratchett ascii-art science ethnic miscellaneous "
            "zippy debian perl magic literature kids startrek education goedel medicine fortunes "
            "drugs definitions food linux translate-me politics humorists news linuxcookie work "
            "songs-poems knghtbrd disclaimer paradoxum art law platitudes tao sports love pets "
            "people cookie").split()
corpus_path = f"{a.cache}/corpus.txt"
if not os.path.exists(corpus_path):
    out = []
    for pos in ["noun", "verb", "adj", "adv"]:
        for line in open(f"{a.debs}/usr/share/wordnet/data.{pos}", encoding="latin-1"):
            if line.startswith("  "):
                continue  # licence header
            head, _, gloss = line.partition("| ")
            parts = head.split()
            n = int(parts[3], 16)
            words = [parts[4 + 2 * i].replace("_", " ") for i in range(n)]
            words = [re.sub(r"\(.*\)$", "", w) for w in words]
            segs = [s.strip() for s in gloss.strip().split(";")]
            defs = [s for s in segs if s and not s.startswith('"')]
            exs = [s.strip('"') for s in segs if s.startswith('"')]
            if defs:
                out.append(f"{words[0]}: {defs[0]}")
                if len(words) > 1:
                    out.append(", ".join(words[:4]) + " - " + defs[0])
            out.extend(e for e in exs if len(e.split()) >= 3)
    for name in FORTUNES:
        txt = open(f"{a.debs}/usr/share/games/fortunes/{name}", encoding="utf-8", errors="ignore").read()
        for block in txt.split("\n%\n"):
            s = " ".join(block.split())
            if 4 <= len(s.split()) <= 60:
                out.append(s)
    random.seed(13)
    out = list(dict.fromkeys(out))
    random.shuffle(out)
    with open(corpus_path, "w") as f:
        f.write("\n".join(out) + "\n")
    log(f"corpus: {len(out)} sentences")

import numpy as np
import torch
torch.manual_seed(a.seed); np.random.seed(a.seed)
torch.set_num_threads(2)

# 2. base table --------------------------------------------------------------------------------
from model2vec import StaticModel
from model2vec.distill import distill
base_dir = f"{a.cache}/base"
if not os.path.exists(f"{base_dir}/model.safetensors"):
    t = time.time()
    distill(model_name=a.teacher, pca_dims=None, quantize_to="float32").save_pretrained(base_dir)
    log(f"distilled the base table in {time.time() - t:.0f} s")
base = StaticModel.from_pretrained(base_dir)
E0 = np.asarray(base.embedding, dtype=np.float32)
tok = base.tokenizer

# 3. teacher targets ---------------------------------------------------------------------------
sents = [l.rstrip("\n") for l in open(corpus_path)][: a.n]
feat = f"{a.cache}/teacher-{a.n}.npy"
if not os.path.exists(feat):
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(a.teacher, device="cpu")
    t = time.time()
    T = st.encode(sents, batch_size=128, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    np.save(feat, T.astype(np.float32))
    log(f"teacher embedded {len(sents)} sentences in {time.time() - t:.0f} s")
T = np.load(feat)

# 4. training ----------------------------------------------------------------------------------
unk = tok.token_to_id("[UNK]")
enc = tok.encode_batch(sents, add_special_tokens=False)
ids = [[i for i in e.ids if i != unk][:128] for e in enc]
keep = [i for i, x in enumerate(ids) if x]
ids = [ids[i] for i in keep]; T = T[keep]
n = len(ids); nval = max(2000, n // 20)
perm = np.random.permutation(n); val, tr = perm[:nval], perm[nval:]

emb = torch.nn.EmbeddingBag(E0.shape[0], E0.shape[1], mode="mean")
emb.weight.data = torch.from_numpy(E0.copy())
opt = torch.optim.Adam(emb.parameters(), lr=a.lr)
Tt = torch.from_numpy(T)

def batch_tensors(idx):
    flat, offs = [], []
    for i in idx:
        offs.append(len(flat)); flat.extend(ids[i])
    return torch.tensor(flat), torch.tensor(offs)

def val_cos():
    with torch.no_grad():
        cs = []
        for s in range(0, len(val), 2048):
            b = val[s:s + 2048]; f, o = batch_tensors(b)
            y = torch.nn.functional.normalize(emb(f, o), dim=1)
            cs.append((y * Tt[b]).sum(1))
        return torch.cat(cs).mean().item()

best = (val_cos(), emb.weight.data.clone(), 0)
log(f"epoch 0: held-out cosine to the teacher {best[0]:.4f}")
for ep in range(a.epochs):
    t = time.time(); np.random.shuffle(tr)
    for s in range(0, len(tr), a.batch):
        b = tr[s:s + a.batch]; f, o = batch_tensors(b)
        loss = 1 - torch.nn.functional.cosine_similarity(emb(f, o), Tt[b]).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    vc = val_cos()
    log(f"epoch {ep + 1}: held-out cosine {vc:.4f} ({time.time() - t:.0f} s)")
    if vc > best[0]:
        best = (vc, emb.weight.data.clone(), ep + 1)
E = best[1].numpy()
log(f"kept epoch {best[2]} (held-out cosine {best[0]:.4f})")

# 5. projection --------------------------------------------------------------------------------
with torch.no_grad():
    ys = []
    for s in range(0, n, 4096):
        b = np.arange(s, min(n, s + 4096)); f, o = batch_tensors(b)
        ys.append(torch.nn.functional.embedding_bag(f, torch.from_numpy(E), o, mode="mean"))
    Y = torch.cat(ys).numpy()
Yn = Y / np.linalg.norm(Y, axis=1, keepdims=True)
_, _, Vt = np.linalg.svd(Yn[:50000], full_matrices=False)
P = np.ascontiguousarray(Vt[: a.dims].T)  # 384 x dims

# 6. export ------------------------------------------------------------------------------------
from safetensors.numpy import save_file
os.makedirs(a.out, exist_ok=True)
save_file({"embeddings": (E @ P).astype(np.float16)}, f"{a.out}/model.safetensors")
save_file({"projection": P.astype(np.float32)}, f"{a.out}/query_projection.safetensors")
shutil.copy(f"{base_dir}/tokenizer.json", f"{a.out}/tokenizer.json")
cfg = {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": a.tokenizer_name,
       "apply_pca": a.dims, "hidden_dim": a.dims, "seq_length": 1000000, "normalize": True,
       "pooling": "mean", "max_length": 512, "embedding_dtype": "float16"}
with open(f"{a.out}/config.json", "w") as f:
    json.dump(cfg, f, indent=4); f.write("\n")
with open(f"{a.out}/training.json", "w") as f:
    json.dump({"sentences": n, "held_out": int(nval), "epochs_run": a.epochs, "epoch_kept": best[2],
               "held_out_cosine": round(best[0], 4), "lr": a.lr, "batch": a.batch, "seed": a.seed,
               "dims": a.dims}, f, indent=4); f.write("\n")
log(f"wrote {a.out}")
