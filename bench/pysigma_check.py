"""What `sigma check` does with every validator, through pySigma's API, offline.

Runs every validator of pySigma 1.5.1 + pysigma-validators-sigmahq 0.21.0 (all but
d3_fendtag, which needs the D3FEND ontology from the network) over rules*/ and deprecated/
of a Sigma corpus, all rules loaded together, with the ATT&CK data of ../shared/corpus/attack
and SigmaHQ's validator data of ../shared/oracle/sigmahq-validator-data. Writes one JSON line
per rule file ({"path","ids","validators","issues","error","details"}), the shape of
../shared/oracle/validation-pysigma.jsonl, so it also makes the reference for the part of the
corpus that file leaves out.

Usage: python bench/pysigma_check.py CORPUS_DIR OUT.jsonl   (in a venv with pySigma==1.5.1
and pysigma-validators-sigmahq==0.21.0; never commit its output).
"""
import json, sys, glob, os, tempfile
from pathlib import Path
from collections import defaultdict
corpus = Path(sys.argv[1]); out = sys.argv[2]
data = corpus / '../../oracle/sigmahq-validator-data'
# one STIX bundle from the per-object files
objs = []
for f in glob.glob(str(corpus / '../attack/enterprise-attack/*/*.json')):
    b = json.load(open(f)); objs.extend(b.get('objects', []))
bundle = os.path.join(tempfile.mkdtemp(), 'attack-bundle.json')
json.dump({'type': 'bundle', 'objects': objs}, open(bundle, 'w'))
from sigma.data import mitre_attack
mitre_attack.set_cache_dir(tempfile.mkdtemp()); mitre_attack.set_url(bundle)
cache_sigmahq = tempfile.mkdtemp()
from sigma.validators.sigmahq.data import data_taxonomy, data_filename, data_windows_eventid, data_windows_provider
for mod, name in [(data_taxonomy,'sigmahq_taxonomy.json'),(data_filename,'sigmahq_filename.json'),(data_windows_eventid,'sigmahq_windows_eventid.json'),(data_windows_provider,'sigmahq_windows_provider.json')]:
    mod.set_cache_dir(cache_sigmahq); mod.set_url(str(data/name))
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaRuleLocation
from sigma.plugins import InstalledSigmaPlugins
plugins = InstalledSigmaPlugins.autodiscover()
validators = {k: v for k, v in plugins.validators.items() if k != 'd3_fendtag'}
files = sorted(p for d in ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder', 'deprecated'] for p in (corpus/d).rglob('*.yml'))
rules = []; per = {}
for p in files:
    rel = str(p.relative_to(corpus))
    rec = {'path': rel, 'ids': [], 'issues': [], 'error': None, 'validators': [], 'details': []}
    per[str(p.resolve())] = rec
    try:
        c = SigmaCollection.from_yaml(p.read_text(), collect_errors=True, source=SigmaRuleLocation(p))
        for r in c.rules:
            rec['ids'].append(str(r.id) if r.id else None)
            if r.errors:
                rec['error'] = '; '.join(str(e) for e in r.errors)[:500]
            rules.append(r)
    except Exception as e:
        rec['error'] = str(e)[:500]
for name, cls in sorted(validators.items()):
    v = cls()
    issues = []
    for r in rules:
        try: issues.extend(v.validate(r))
        except Exception as e: print('validator', name, 'failed on', r.source, e, file=sys.stderr)
    try: issues.extend(v.finalize())
    except Exception as e: print('finalize', name, e, file=sys.stderr)
    for i in issues:
        seen = set()
        for r in i.rules:
            key = str(Path(r.source.path).resolve())
            if key in seen or key not in per: continue
            seen.add(key)
            per[key]['validators'].append(name); per[key]['issues'].append(type(i).__name__)
            d = {k: str(val) for k, val in i.__dict__.items() if k != 'rules'}
            per[key]['details'].append([name, d])
with open(out, 'w') as f:
    for rec in per.values():
        f.write(json.dumps(rec) + '\n')
