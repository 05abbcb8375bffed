import time
from bilstm_crf_ner import BLSTMCRFModel, BareEmbedding, read_conll
x,y = read_conll('../shared/data/msra/train.bio'); tx,ty=read_conll('../shared/data/msra/test.bio')
dev=len(x)//20
m = BLSTMCRFModel(BareEmbedding(128), lstm_units=256, dropout=0.3, seed=1)
for ep in range(3):
    t=time.time(); m.fit(x[:-dev], y[:-dev], epochs=1, batch_size=64, verbose=0)
    print(ep+1, 'train s', round(time.time()-t), 'dev', round(m.evaluate(x[-dev:], y[-dev:]).f1,4), 'test', round(m.evaluate(tx,ty).f1,4), flush=True)
m.save('/tmp/devtest_model')
