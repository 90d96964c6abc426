"""Which novelty score flags a never-labelled cell type best? The exploration behind `_novelty`.

Usage (one line per held-out type and seed, AUROC of each candidate score on the unlabelled
cells; the hidden batch rotates with the seed)::

    PYTHONPATH=src .venv/bin/python benchmarks/novelty_candidates.py \
        ../shared/data/pbmc_symphony.h5ad 100 T_CD8,Mono_CD14,NK 0,1,2

``share30`` (and ``share30+<w>cos``): the share of unlabelled cells among the 30 nearest
training cells of the annotated batches in z_l (plus ``w`` times ``cos_means``);
``share30_lb+0.1cos``, the score `_novelty` uses, looks for the neighbours in z_l and z_b.

Results of the runs that chose the score: ``benchmarks/results/novelty_candidates.txt``.
"""
import sys, time, numpy as np, anndata as ad, scvi
from sklearn.metrics import roc_auc_score
from fadvi_core import FADVI
from fadvi_core._calibration import label_space, softmax, fit_temperature
from scvi import settings
import torch
torch.set_num_threads(1)
path, epochs = sys.argv[1], int(sys.argv[2])
types = sys.argv[3].split(",") ; seeds=[int(s) for s in sys.argv[4].split(",")]
full = ad.read_h5ad(path)
batches = list(full.obs.batch.cat.categories)
for held in types:
  for seed in seeds:
    a = full.copy()
    labels = a.obs.cell_type.astype(str).to_numpy().copy()
    hidden_batch = batches[seed % len(batches)]
    labels[(labels == held) | (a.obs.batch.to_numpy() == hidden_batch)] = "Unknown"
    a.obs["lab"] = labels
    settings.seed = seed
    FADVI.setup_anndata(a, batch_key="batch", labels_key="lab", unlabeled_category="Unknown")
    m = FADVI(a)
    t=time.time(); m.train(max_epochs=epochs, batch_size=128); tt=time.time()-t
    from fadvi_core._data import CellData
    data = CellData(m.adata_manager)
    z, _, logits, cls = label_space(m.module, data, 1024, m._device)
    novel = (a.obs.cell_type.to_numpy() == held)
    ev = (labels == "Unknown")  # unlabelled cells: the hidden batch + novel type
    y = novel[ev]
    p = softmax(logits)
    ref = (cls >= 0) & np.isin(np.arange(len(cls)), m.train_indices_)
    zr, cr = z[ref], cls[ref]
    K = logits.shape[1]
    means = np.stack([zr[cr==k].mean(0) for k in range(K)])
    cen = zr - means[cr]
    cov = cen.T @ cen / len(cen) + 1e-3*np.eye(z.shape[1])
    prec = np.linalg.inv(cov)
    d = z[:,None,:]-means[None]
    maha = np.einsum("ckd,de,cke->ck", d, prec, d).min(1)
    # relative mahalanobis (Ren et al. 2021)
    gm = zr.mean(0); gc = np.cov(zr.T)+1e-3*np.eye(z.shape[1]); gp=np.linalg.inv(gc)
    g = np.einsum("cd,de,ce->c", z-gm, gp, z-gm)
    eu = np.sqrt(((z[:,None,:]-means[None])**2).sum(-1)).min(1)
    from sklearn.neighbors import NearestNeighbors
    nn = NearestNeighbors(n_neighbors=10).fit(zr)
    knn = nn.kneighbors(z)[0].mean(1)
    zn = z/np.linalg.norm(z,axis=1,keepdims=True); zrn=zr/np.linalg.norm(zr,axis=1,keepdims=True)
    knnc = NearestNeighbors(n_neighbors=10).fit(zrn).kneighbors(zn)[0].mean(1)
    T = fit_temperature(logits[(cls>=0)&np.isin(np.arange(len(cls)), m.validation_indices_)], cls[(cls>=0)&np.isin(np.arange(len(cls)), m.validation_indices_)])
    energy = -np.log(np.exp(logits - logits.max(1,keepdims=True)).sum(1)) - logits.max(1)
    sc = {"1-maxp": 1-p.max(1), "entropy": -(p*np.log(p+1e-30)).sum(1), "energy": energy,
          "maha": maha, "relmaha": maha-g, "eucl": eu, "knn10": knn, "knn_cos": knnc}
    zlr = m.get_latent_representation(representation="lr")
    zfull = m.get_latent_representation(representation="full")
    def eucl_to_means(zz):
        zzr = zz[ref]; mm = np.stack([zzr[cr==k].mean(0) for k in range(K)])
        dd = np.sqrt(((zz[:,None,:]-mm[None])**2).sum(-1))
        spread = np.array([np.median(dd[ref][cr==k, k]) for k in range(K)])
        return dd.min(1), (dd/spread).min(1)
    sc["eucl_lr"], sc["eucl_lr_norm"] = eucl_to_means(zlr)
    sc["eucl_full"], sc["eucl_full_norm"] = eucl_to_means(zfull)
    _, sc["eucl_norm"] = eucl_to_means(z)
    sc["knn_lr"] = NearestNeighbors(n_neighbors=10).fit(zlr[ref]).kneighbors(zlr)[0].mean(1)
    mn = means/np.linalg.norm(means,axis=1,keepdims=True)
    sc["cos_means"] = 1-(zn@mn.T).max(1)
    zc = z - gm; mc = means - gm
    sc["cos_centered"] = 1-((zc/np.linalg.norm(zc,axis=1,keepdims=True))@(mc/np.linalg.norm(mc,axis=1,keepdims=True)).T).max(1)
    sc["knn_cos1"] = NearestNeighbors(n_neighbors=1).fit(zrn).kneighbors(zn)[0].mean(1)
    # Share of unlabelled cells among the 30 nearest training cells of the annotated batches
    # (what _novelty uses), alone and with the prototype distance added at a few weights.
    batch_of = a.obs.batch.astype(str).to_numpy()
    pool = np.intersect1d(m.train_indices_, np.flatnonzero(np.isin(batch_of, np.unique(batch_of[labels != "Unknown"]))))
    near = NearestNeighbors(n_neighbors=30, algorithm="brute").fit(z[pool]).kneighbors(z)[1]
    share = (labels[pool] == "Unknown")[near].mean(1)
    sc["share30"] = share
    for w in (1.0, 0.1, 0.01):
        sc[f"share30+{w}cos"] = share + w * sc["cos_means"]
    zlb = np.hstack([z, m.get_latent_representation(representation="b")])
    near_lb = NearestNeighbors(n_neighbors=30, algorithm="brute").fit(zlb[pool]).kneighbors(zlb)[1]
    sc["share30_lb+0.1cos"] = (labels[pool] == "Unknown")[near_lb].mean(1) + 0.1 * sc["cos_means"]
    from sklearn.cluster import KMeans
    protos = np.vstack([KMeans(3, n_init=3, random_state=0).fit(zrn[cr == k]).cluster_centers_
                        if (cr == k).sum() >= 30 else zrn[cr == k].mean(0, keepdims=True)
                        for k in range(K) if (cr == k).any()])
    sc["cos_3protos"] = 1 - (zn @ (protos / np.linalg.norm(protos, axis=1, keepdims=True)).T).max(1)
    r = {k: roc_auc_score(y, v[ev]) for k,v in sc.items()}
    from scipy.stats import rankdata
    r["cos+energy"] = roc_auc_score(y, (rankdata(sc["cos_means"])+rankdata(energy))[ev])
    r["maha+knn"] = roc_auc_score(y, (rankdata(maha)+rankdata(knn))[ev])
    r["maha+1-maxp"] = roc_auc_score(y, (rankdata(maha)+rankdata(1-p.max(1)))[ev])
    print(held, seed, hidden_batch, f"{tt:.0f}s", "n_novel", y.sum(), " ".join(f"{k}={v:.3f}" for k,v in r.items()), flush=True)
