{{/* Release-scoped name prefix. */}}
{{- define "memvox.fullname" -}}
{{- if contains "memvox" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-memvox" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "memvox.labels" -}}
app.kubernetes.io/name: memvox
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: memvox
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "memvox.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Secret-backed environment shared by every memvox container. */}}
{{- define "memvox.secretEnv" -}}
- name: MEMVOX_STORE__URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.storeUrl }}
- name: MEMVOX_BUS__REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.redisUrl }}
- name: MEMVOX_ENCRYPTION__KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.encryptionKeys }}
- name: MEMVOX_ENCRYPTION__ACTIVE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.encryptionActiveKey }}
- name: MEMVOX_ENCRYPTION__INDEX_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.encryptionIndexKey }}
- name: OPENAI_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.openaiApiKey }}
      optional: true
{{- end -}}
