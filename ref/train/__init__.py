"""ZO training with replayable perturbation sources (the training-parity experiment).

``data`` (digits, fixed split), ``models`` (numpy logreg / MLP on a flat theta),
``sources`` (gaussian, uniform, pezo-pool, pezo-stream), ``zo`` (MeZO-style ZO-SGD),
``sgd`` (backprop ceiling), ``loop`` (settings, minibatches, curves), ``run`` (one run
by method name) and ``compare`` (every source over several seeds, with cost and the
target checks).
"""
