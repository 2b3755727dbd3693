#!/bin/bash
# Bad config.json documents (issue 13, bad input): each field with a wrong
# type, out of range or missing where required makes `cella create` fail with
# exactly one line naming the field's JSON path, and leave nothing behind.
# No container starts: every case fails while the config is read.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
cp "$B/config.json" "$WORK/good.json"

# bad NAME ERE EXPR...: config = the good one edited by EXPR (cfg); create fails naming ERE.
bad() {
    local name=$1 re=$2 id
    shift 2
    cp "$WORK/good.json" "$B/config.json"
    cfg "$B" "$@"
    id=$(newid bad)
    fails "$name" "$id" "$re" cella create -b "$B" "$id"
}

SECCOMP="c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['mkdir'],'action':'SCMP_ACT_ERRNO'}]}"

bad "ociVersion missing" '(^|: )ociVersion: .*missing' "del c['ociVersion']"
bad "ociVersion not a string" '(^|: )ociVersion: expected string' "c['ociVersion']=1"
bad "ociVersion not SemVer" '(^|: )ociVersion: .*SemVer' "c['ociVersion']='banana'"
bad "root missing" 'root\.path: .*missing' "del c['root']"
bad "root.path missing" 'root\.path: .*missing' "del c['root']['path']"
bad "root.path not a string" 'root\.path: expected string' "c['root']['path']=5"
bad "root.readonly not a boolean" 'root\.readonly: expected boolean' "c['root']['readonly']='yes'"
bad "process.args missing" 'process\.args: ' "del c['process']['args']"
bad "process.args empty" 'process\.args: ' "c['process']['args']=[]"
bad "process.args not an array" 'process\.args: expected array' "c['process']['args']='sh'"
bad "process.args[0] not a string" 'process\.args\[0\]: expected string' "c['process']['args']=[1]"
bad "process.user.uid negative" 'process\.user\.uid: ' "c['process']['user']['uid']=-1"
bad "process.user.uid a string" 'process\.user\.uid: ' "c['process']['user']['uid']='0'"
bad "process.user.uid out of range" 'process\.user\.uid: .*range' "c['process']['user']['uid']=2**32"
bad "process.user.gid negative" 'process\.user\.gid: ' "c['process']['user']['gid']=-5"
bad "process.user.additionalGids[0] a string" 'process\.user\.additionalGids\[0\]: ' \
    "c['process']['user']['additionalGids']=['a']"
bad "process.env not an array" 'process\.env: expected array' "c['process']['env']='A=1'"
bad "process.env[0] not a string" 'process\.env\[0\]: expected string' "c['process']['env']=[3]"
bad "process.cwd relative" 'process\.cwd: .*absolute' "c['process']['cwd']='relative'"
bad "process.rlimits[0].hard a string" 'process\.rlimits\[0\]\.hard: ' \
    "c['process']['rlimits']=[{'type':'RLIMIT_NOFILE','soft':1,'hard':'x'}]"
bad "process.rlimits[0].hard negative" 'process\.rlimits\[0\]\.hard: ' \
    "c['process']['rlimits']=[{'type':'RLIMIT_NOFILE','soft':1,'hard':-1}]"
bad "process.rlimits[0].type unknown" 'process\.rlimits\[0\]\.type: ' \
    "c['process']['rlimits']=[{'type':'RLIMIT_BOGUS','soft':1,'hard':1}]"
bad "process.oomScoreAdj out of range" 'process\.oomScoreAdj' "c['process']['oomScoreAdj']=5000"
bad "linux.namespaces[0].type unknown" 'linux\.namespaces\[0\]\.type' \
    "c['linux']['namespaces'][0]['type']='bogus'"
bad "linux.namespaces[0].type a number" 'linux\.namespaces\[0\]\.type' \
    "c['linux']['namespaces'][0]['type']=3"
bad "linux.namespaces[0].type missing" 'linux\.namespaces\[0\]\.type' \
    "del c['linux']['namespaces'][0]['type']"
bad "linux.namespaces an object" 'linux\.namespaces: expected array' \
    "c['linux']['namespaces']={'type':'pid'}"
bad "linux.uidMappings[0].size a string" 'linux\.uidMappings\[0\]\.size' \
    "c['linux']['uidMappings']=[{'containerID':0,'hostID':0,'size':'x'}]"
bad "linux.uidMappings[0].size negative" 'linux\.uidMappings\[0\]\.size' \
    "c['linux']['uidMappings']=[{'containerID':0,'hostID':0,'size':-1}]"
bad "mounts[0].destination a number" 'mounts\[0\]\.destination' "c['mounts'][0]['destination']=5"
bad "mounts[0].destination missing" 'mounts\[0\]\.destination' "del c['mounts'][0]['destination']"
bad "mounts[0].options a string" 'mounts\[0\]\.options: expected array' "c['mounts'][0]['options']='ro'"
bad "mounts an object" 'mounts: expected array' "c['mounts']={}"
bad "hooks.prestart[0].path a number" 'hooks\.prestart\[0\]\.path' "c['hooks']={'prestart':[{'path':7}]}"
bad "hooks.prestart[0].path missing" 'hooks\.prestart\[0\]\.path' "c['hooks']={'prestart':[{}]}"
bad "hooks.prestart[0].timeout a string" 'hooks\.prestart\[0\]\.timeout' \
    "c['hooks']={'prestart':[{'path':'/bin/true','timeout':'x'}]}"
bad "hooks.prestart an object" 'hooks\.prestart: expected array' \
    "c['hooks']={'prestart':{'path':'/bin/true'}}"
bad "linux.resources.memory.limit a string" 'linux\.resources\.memory\.limit' \
    "c['linux']['resources']={'memory':{'limit':'x'}}"
bad "linux.resources.cpu.shares a string" 'linux\.resources\.cpu\.shares' \
    "c['linux']['resources']={'cpu':{'shares':'x'}}"
bad "linux.resources.pids.limit a string" 'linux\.resources\.pids\.limit' \
    "c['linux']['resources']={'pids':{'limit':'x'}}"
bad "linux.resources.devices[0].allow a string" 'linux\.resources\.devices\[0\]\.allow' \
    "c['linux']['resources']={'devices':[{'allow':'yes','access':'rwm'}]}"
bad "linux.seccomp.syscalls[0].action unknown" 'linux\.seccomp\.syscalls\[0\]\.action' \
    "$SECCOMP" "c['linux']['seccomp']['syscalls'][0]['action']='SCMP_ACT_BOGUS'"
bad "linux.seccomp.syscalls[0].action a number" 'linux\.seccomp\.syscalls\[0\]\.action' \
    "$SECCOMP" "c['linux']['seccomp']['syscalls'][0]['action']=5"
bad "linux.seccomp.syscalls[0].action missing" 'linux\.seccomp\.syscalls\[0\]\.action' \
    "$SECCOMP" "del c['linux']['seccomp']['syscalls'][0]['action']"
bad "linux.seccomp.defaultAction unknown" 'linux\.seccomp\.defaultAction' \
    "$SECCOMP" "c['linux']['seccomp']['defaultAction']='SCMP_ACT_BOGUS'"
bad "linux.seccomp.syscalls[0].args[0].op unknown" 'linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op' \
    "$SECCOMP" "c['linux']['seccomp']['syscalls'][0]['args']=[{'index':0,'value':0,'op':'SCMP_CMP_BOGUS'}]"
bad "linux.sysctl value a number" 'linux\.sysctl' "c['linux']['sysctl']={'a':1}"
bad "annotations value a number" 'annotations' "c['annotations']={'a':1}"
bad "hostname a number" 'hostname: expected string' "c['hostname']=5"
bad "linux a string" 'linux: expected object' "c['linux']='x'"
bad "process a string" 'process: expected object' "c['process']='x'"
bad "root a string" 'root: expected object' "c['root']='x'"
bad "mounts[0] a string" 'mounts\[0\]: expected object' "c['mounts'][0]='x'"

plan_done
