{{/*
Names. Objects are named after the release (the local stack and the other
approaches rely on "<release>", "<release>-config" and "<release>-tls").
*/}}
{{- define "orthanc.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "orthanc.selectorLabels" -}}
app.kubernetes.io/name: orthanc
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "orthanc.commonLabels" -}}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/part-of: korthweb
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "orthanc.labels" -}}
{{ include "orthanc.selectorLabels" . }}
{{ include "orthanc.commonLabels" . }}
{{- end -}}

{{- define "orthanc.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "orthanc.webHost" -}}
{{- .Values.hostnames.web | default (printf "web.%s" .Values.domain) -}}
{{- end -}}

{{- define "orthanc.dicomHost" -}}
{{- .Values.hostnames.dicom | default (printf "dicom.%s" .Values.domain) -}}
{{- end -}}

{{- define "orthanc.tlsSecretName" -}}
{{- .Values.tls.secretName | default (printf "%s-tls" (include "orthanc.name" .)) -}}
{{- end -}}

{{/* Namespace of the TLS Secret: Istio reads it from the gateway's namespace. */}}
{{- define "orthanc.tlsNamespace" -}}
{{- if eq .Values.ingress.provider "istio" -}}
{{ .Values.ingress.istio.gatewayNamespace }}
{{- else -}}
{{ .Release.Namespace }}
{{- end -}}
{{- end -}}

{{- define "orthanc.gatewayRef" -}}
{{- if .Values.ingress.istio.createGateway -}}
{{ .Values.ingress.istio.gatewayResourceNamespace | default .Release.Namespace }}/{{ include "orthanc.name" . }}
{{- else -}}
{{ .Values.ingress.istio.existingGateway }}
{{- end -}}
{{- end -}}

{{/*
Deep merge that, unlike sprig's merge/mergeOverwrite, lets false, 0 and ""
override: a user turning a default off must win. Maps merge key by key;
anything else replaces; null removes the key. Mutates the first map.
*/}}
{{- define "orthanc.deepMerge" -}}
{{- $dst := index . 0 -}}
{{- range $key, $value := index . 1 -}}
{{- $current := index $dst $key -}}
{{- if kindIs "invalid" $value -}}
{{- $_ := unset $dst $key -}}
{{- else if and (kindIs "map" $value) (kindIs "map" $current) -}}
{{- include "orthanc.deepMerge" (list $current $value) -}}
{{- else -}}
{{- $_ := set $dst $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The chart's Orthanc configuration, before the user's orthanc.config. Keys
are ones both Orthanc 1.10 (Debian, local stack) and 1.13 (image) know,
with the PostgreSQL plugin ≥ 4.0. Credentials are ${VAR} placeholders that
Orthanc substitutes from the environment before parsing the JSON.
*/}}
{{- define "orthanc.defaultConfig" -}}
{{- $o := .Values.orthanc -}}
{{- $db := .Values.database -}}
{{- $plugins := list -}}
{{- range $o.plugins -}}
{{- $plugins = append $plugins (printf "%s/%s" (trimSuffix "/" $o.pluginDirectory) .) -}}
{{- end -}}
{{- $modalities := include "orthanc.dicomModalities" . -}}
{{- $config := dict
  "Name" $o.name
  "DicomAet" $o.aet
  "DicomPort" ($o.dicomPort | int)
  "HttpPort" ($o.httpPort | int)
  "RemoteAccessAllowed" true
  "AuthenticationEnabled" true
  "RegisteredUsers" (dict "${ORTHANC_ADMIN_USERNAME}" "${ORTHANC_ADMIN_PASSWORD}")
  "DicomCheckCalledAet" true
  "DicomCheckModalityHost" false
  "DicomAlwaysAllowEcho" (eq $modalities "{}")
  "DicomAlwaysAllowStore" (eq $modalities "{}")
  "DatabaseServerIdentifier" $o.databaseServerIdentifier
  "SaveJobs" false
  "MetricsEnabled" true
  "ExecuteLuaEnabled" false
  "HttpsCACertificates" "/etc/ssl/certs/ca-certificates.crt"
  "StorageDirectory" "/var/lib/orthanc/db"
  "IndexDirectory" "/var/lib/orthanc/db"
  "Plugins" $plugins
  "DicomModalities" ($modalities | fromJson)
  "PostgreSQL" (dict
    "EnableIndex" true
    "EnableStorage" true
    "Lock" false
    "Host" $db.host
    "Port" ($db.port | int)
    "Database" $db.name
    "Username" $db.user
    "Password" "${ORTHANC_DB_PASSWORD}"
    "EnableSsl" (eq $db.sslMode "require")
    "IndexConnectionsCount" ($db.connectionsPerPod | int)
    "MaximumConnectionRetries" ($db.connectionRetries | int)
    "ConnectionRetryInterval" ($db.connectionRetryIntervalSeconds | int))
-}}
{{- if include "orthanc.outgoingTls" . -}}
{{- /* Outgoing only: DicomTlsEnabled stays off, the ingress terminates incoming TLS. */ -}}
{{- $dir := include "orthanc.outgoingTlsDir" . -}}
{{- $_ := set $config "DicomTlsCertificate" (printf "%s/tls.crt" $dir) -}}
{{- $_ := set $config "DicomTlsPrivateKey" (printf "%s/tls.key" $dir) -}}
{{- $_ := set $config "DicomTlsTrustedCertificates" (printf "%s/ca.crt" $dir) -}}
{{- end -}}
{{- if .Values.memory.bounded -}}
{{- $config = merge $config (include "orthanc.memoryConfig" . | fromJson) -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{/* The complete orthanc.json: defaults deep-merged with orthanc.config. */}}
{{- define "orthanc.config" -}}
{{- $config := include "orthanc.defaultConfig" . | fromJson -}}
{{- include "orthanc.deepMerge" (list $config (deepCopy .Values.orthanc.config)) -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/* Environment of the Orthanc container: every ${VAR} in orthanc.json comes from here. */}}
{{- define "orthanc.env" -}}
- name: TCP_NODELAY
  value: "1"
{{ include "orthanc.credentialEnv" . }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The credentials Orthanc substitutes into orthanc.json (and the prepare container checks). */}}
{{- define "orthanc.credentialEnv" -}}
- name: ORTHANC_ADMIN_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.auth.existingSecret }}
      key: {{ .Values.auth.usernameKey }}
- name: ORTHANC_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.auth.existingSecret }}
      key: {{ .Values.auth.passwordKey }}
- name: ORTHANC_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.passwordKey }}
{{- end -}}

{{/* Arguments of files/prepare.py; empty when the prepare container has nothing to do. */}}
{{- define "orthanc.prepareArgs" -}}
{{- if .Values.prepare.hostId }}
- --hostid
- /run/korthweb/hostid
{{- end }}
{{- if .Values.prepare.checkCredentials }}
- --check
- ORTHANC_ADMIN_USERNAME=Secret {{ .Values.auth.existingSecret }} key {{ .Values.auth.usernameKey }}
- --check
- ORTHANC_ADMIN_PASSWORD=Secret {{ .Values.auth.existingSecret }} key {{ .Values.auth.passwordKey }}
- --check
- ORTHANC_DB_PASSWORD=Secret {{ .Values.database.existingSecret }} key {{ .Values.database.passwordKey }}
{{- end }}
{{- end -}}

{{/*
A Kubernetes memory quantity (resources.limits.memory) in MiB, rounded down.
*/}}
{{- define "orthanc.quantityMiB" -}}
{{- $q := toString . -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $q -}}
{{- $suffix := trimPrefix $number $q -}}
{{- $units := dict "" 1.0 "m" 0.001 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 -}}
{{- if not (hasKey $units $suffix) -}}
{{- fail (printf "resources.limits.memory: %q is not a memory quantity (e.g. 2Gi, 1536Mi)" $q) -}}
{{- end -}}
{{- divf (mulf (float64 $number) (index $units $suffix)) 1048576.0 | floor | int -}}
{{- end -}}

{{/*
Orthanc 1.13's caches and buffers (defaults add up to ~1.8 GB, more with the
sequential reader's per-thread windows) bounded by a budget: memory.budgetPercent
of the pod's memory limit, the rest left to what Orthanc does not account
(HTTP/DICOM threads, plugins, libpq). Caches fill to their size; capacities
are peaks. Shares of the budget: each cache 1/8 (3/8), storage loading 1/4,
DICOM parsing and transcoding 1/8 each, the sequential reader 1/8 (4 threads).
Orthanc 1.10 ignores these keys. docs/helm.md, "Memory".
*/}}
{{- define "orthanc.memoryConfig" -}}
{{- $limit := include "orthanc.quantityMiB" .Values.resources.limits.memory | int -}}
{{- $budget := div (mul $limit (.Values.memory.budgetPercent | int)) 100 -}}
{{- $eighth := max 1 (div $budget 8) -}}
{{- $threads := 4 -}}
{{- toJson (dict
  "MaximumStorageCacheSize" $eighth
  "DicomParserCacheSize" $eighth
  "TranscoderCacheSize" $eighth
  "StorageMemoryCapacity" (max 1 (div $budget 4))
  "DicomParserMemoryCapacity" $eighth
  "TranscoderMemoryCapacity" $eighth
  "SequentialDicomReaderThreadsCount" $threads
  "SequentialDicomReaderWindowCapacity" (max 1 (div $eighth $threads))) -}}
{{- end -}}

{{/*
Connections to PostgreSQL: each pod holds connectionsPerPod index connections
plus one of the storage area's own. Pods at most: replicas (or the
autoscaler's maximum) + 1 during a rolling update (maxSurge 1).
*/}}
{{- define "orthanc.connectionBudget" -}}
{{- $pods := ternary .Values.autoscaling.maxReplicas .Values.replicaCount .Values.autoscaling.enabled | int -}}
{{- $surged := add $pods 1 -}}
{{- $perPod := add (.Values.database.connectionsPerPod | int) 1 -}}
{{- $needed := mul $surged $perPod -}}
{{- $available := sub (.Values.database.maxConnections | int) (.Values.database.reservedConnections | int) -}}
{{- if gt $needed $available -}}
{{- fail (printf "database.connectionsPerPod: %d pods (%s, +1 during a rolling update) × (%d index + 1 storage connection) = %d connections, more than database.maxConnections %d − database.reservedConnections %d = %d. Lower connectionsPerPod or the replicas, or raise max_connections in PostgreSQL and database.maxConnections with it" $surged (ternary (printf "autoscaling.maxReplicas %d" (.Values.autoscaling.maxReplicas | int)) (printf "replicaCount %d" (.Values.replicaCount | int)) .Values.autoscaling.enabled) (.Values.database.connectionsPerPod | int) $needed (.Values.database.maxConnections | int) (.Values.database.reservedConnections | int) $available) -}}
{{- end -}}
{{- end -}}

{{/*
Fail early on values that would render a broken deployment, naming the value.
*/}}
{{- define "orthanc.validate" -}}
{{- $envNames := list -}}
{{- range (include "orthanc.env" . | fromYamlArray) -}}
{{- $envNames = append $envNames .name -}}
{{- end -}}
{{- range (regexFindAll "\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}" (include "orthanc.config" .) -1) | uniq -}}
{{- $name := trimSuffix "}" (trimPrefix "${" .) -}}
{{- if not (has $name $envNames) -}}
{{- fail (printf "orthanc.config uses %s but no container env provides it: add it to extraEnv (e.g. valueFrom.secretKeyRef), or write ${%s:-default}" . $name) -}}
{{- end -}}
{{- end -}}
{{- if and (gt (int .Values.drainSeconds) 0) (ge (int .Values.drainSeconds) (int .Values.terminationGracePeriodSeconds)) -}}
{{- fail (printf "drainSeconds: %d is not below terminationGracePeriodSeconds %d: the kubelet would kill Orthanc before it could stop by itself. Lower drainSeconds or raise terminationGracePeriodSeconds" (int .Values.drainSeconds) (int .Values.terminationGracePeriodSeconds)) -}}
{{- end -}}
{{- if and (eq .Values.tls.mode "existingSecret") (not .Values.tls.secretName) -}}
{{- fail "tls.secretName: required when tls.mode is existingSecret (a kubernetes.io/tls Secret with tls.crt and tls.key)" -}}
{{- end -}}
{{- if and (eq .Values.tls.mode "certManager") (not .Values.tls.certManager.issuerRef.name) -}}
{{- fail "tls.certManager.issuerRef.name: required when tls.mode is certManager" -}}
{{- end -}}
{{- if and (eq .Values.ingress.provider "istio") (not .Values.ingress.istio.createGateway) (not .Values.ingress.istio.existingGateway) -}}
{{- fail "ingress.istio.existingGateway: required (namespace/name) when ingress.istio.createGateway is false" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.tlsConfig (ne .Values.metrics.serviceMonitor.scheme "https") -}}
{{- fail "metrics.serviceMonitor.tlsConfig: only used with metrics.serviceMonitor.scheme https (set it, or remove tlsConfig)" -}}
{{- end -}}
{{- if and .Values.ingress.istio.gatewayResourceNamespace (not .Values.ingress.istio.createGateway) -}}
{{- fail "ingress.istio.gatewayResourceNamespace: only used when ingress.istio.createGateway is true (an existing Gateway is named by existingGateway: namespace/name)" -}}
{{- end -}}
{{- if ge (int .Values.tls.generate.renewBeforeDays) (int .Values.tls.generate.validityDays) -}}
{{- fail "tls.generate.renewBeforeDays: must be less than tls.generate.validityDays" -}}
{{- end -}}
{{- $aets := dict -}}
{{- range $i, $m := .Values.dicom.modalities -}}
{{- $key := $m.name | default $m.aet -}}
{{- if hasKey $aets (upper $m.aet) -}}
{{- fail (printf "dicom.modalities[%d].aet: AE title %q is already registered by dicom.modalities[%s]: each modality needs its own AE title" $i $m.aet (get $aets (upper $m.aet))) -}}
{{- end -}}
{{- $_ := set $aets (upper $m.aet) (toString $i) -}}
{{- end -}}
{{- if and .Values.dicom.smokeClient.enabled (hasKey $aets (upper .Values.dicom.smokeClient.aet)) -}}
{{- fail (printf "dicom.modalities[%s].aet: AE title %q is the smoke client's (dicom.smokeClient.aet): pick another" (get $aets (upper .Values.dicom.smokeClient.aet)) .Values.dicom.smokeClient.aet) -}}
{{- end -}}
{{- $names := dict -}}
{{- range $i, $m := .Values.dicom.modalities -}}
{{- $key := $m.name | default $m.aet -}}
{{- if or (hasKey $names $key) (eq $key "korthweb-smoke") -}}
{{- fail (printf "dicom.modalities[%d].name: %q is used twice in DicomModalities: give each modality its own name" $i $key) -}}
{{- end -}}
{{- $_ := set $names $key true -}}
{{- end -}}
{{- if and (eq .Values.dicom.modalityCa.mode "existingSecret") (not .Values.dicom.modalityCa.secretName) (ne .Values.dicom.clientAuth "none") -}}
{{- fail "dicom.modalityCa.secretName: required when dicom.modalityCa.mode is existingSecret (a Secret with ca.crt, next to the TLS Secret)" -}}
{{- end -}}
{{- if and (include "orthanc.outgoingTls" .) (ne .Values.dicom.modalityCa.mode "generate") (not .Values.dicom.outgoingTlsSecret) -}}
{{- fail "dicom.outgoingTlsSecret: required when a modality has useDicomTls and dicom.modalityCa.mode is not generate (a Secret in the release namespace with tls.crt, tls.key and ca.crt; `make modality-cert` makes the files)" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail "autoscaling.minReplicas: must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- include "orthanc.connectionBudget" . -}}
{{- end -}}

{{- define "orthanc.backupSelectorLabels" -}}
app.kubernetes.io/name: orthanc
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: backup
{{- end -}}

{{- define "orthanc.backupLabels" -}}
{{ include "orthanc.backupSelectorLabels" . }}
{{ include "orthanc.commonLabels" . }}
{{- end -}}

{{- define "orthanc.backupImage" -}}
{{- $i := .Values.backup.image -}}
{{- if $i.digest -}}{{ $i.repository }}@{{ $i.digest }}{{- else -}}{{ $i.repository }}:{{ $i.tag }}{{- end -}}
{{- end -}}

{{- define "orthanc.backupClaim" -}}
{{- .Values.backup.volume.existingClaim | default (printf "%s-backups" (include "orthanc.name" .)) -}}
{{- end -}}

{{/*
Mutual TLS on 11112 and registered modalities (docs/modality-certificates.md).
Everything of the modality CA lives next to the TLS Secret (orthanc.tlsNamespace):
that is where the ingress reads it.
*/}}
{{- define "orthanc.modalityCaSecretName" -}}
{{- .Values.dicom.modalityCa.secretName | default (printf "%s-modality-ca" (include "orthanc.name" .)) -}}
{{- end -}}

{{- define "orthanc.smokeClientSecretName" -}}
{{- printf "%s-smoke-client" (include "orthanc.name" .) -}}
{{- end -}}

{{/* The chart makes the smoke client's certificate (generate and certManager modes). */}}
{{- define "orthanc.makesSmokeClient" -}}
{{- if and .Values.dicom.smokeClient.enabled (ne .Values.dicom.modalityCa.mode "existingSecret") -}}true{{- end -}}
{{- end -}}

{{/* "true" when a registered modality wants outgoing DICOM-TLS. */}}
{{- define "orthanc.outgoingTls" -}}
{{- range .Values.dicom.modalities -}}{{- if .useDicomTls -}}true{{- end -}}{{- end -}}
{{- end -}}

{{- define "orthanc.outgoingTlsSecretName" -}}
{{- .Values.dicom.outgoingTlsSecret | default (printf "%s-dicom-client" (include "orthanc.name" .)) -}}
{{- end -}}

{{/* Where the Orthanc container finds its outgoing DICOM-TLS certificate. */}}
{{- define "orthanc.outgoingTlsDir" -}}/etc/korthweb-dicom-tls{{- end -}}

{{/* DicomModalities: the registered modalities, then the smoke client (AE title only; it is never called). */}}
{{- define "orthanc.dicomModalities" -}}
{{- $out := dict -}}
{{- range .Values.dicom.modalities -}}
{{- $entry := dict "AET" .aet "Host" .host "Port" (.port | int) -}}
{{- if .useDicomTls -}}{{- $_ := set $entry "UseDicomTls" true -}}{{- end -}}
{{- $_ := set $out (.name | default .aet) $entry -}}
{{- end -}}
{{- if .Values.dicom.smokeClient.enabled -}}
{{- $_ := set $out "korthweb-smoke" (dict "AET" .Values.dicom.smokeClient.aet "Host" "127.0.0.1" "Port" 104) -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
The TLS policy per provider. BCP 195 (RFC 9325) TLS 1.2 suites: ECDHE key
exchange, AEAD ciphers; TLS 1.3 suites are all AEAD and fixed by the proxies.
*/}}
{{- define "orthanc.traefikTlsPolicy" -}}
{{- if eq .Values.tlsPolicy.minVersion "1.3" -}}
minVersion: VersionTLS13
{{- else -}}
minVersion: VersionTLS12
cipherSuites:
  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
  - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
{{- end -}}
{{- end -}}

{{- define "orthanc.istioTlsPolicy" -}}
{{- if eq .Values.tlsPolicy.minVersion "1.3" -}}
minProtocolVersion: TLSV1_3
{{- else -}}
minProtocolVersion: TLSV1_2
cipherSuites:
  - ECDHE-ECDSA-AES128-GCM-SHA256
  - ECDHE-RSA-AES128-GCM-SHA256
  - ECDHE-ECDSA-AES256-GCM-SHA384
  - ECDHE-RSA-AES256-GCM-SHA384
  - ECDHE-ECDSA-CHACHA20-POLY1305
  - ECDHE-RSA-CHACHA20-POLY1305
{{- end -}}
{{- end -}}
