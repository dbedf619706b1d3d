// Form fields with labels and error slots, and the one way problem+json errors are shown:
// field errors next to their fields, anything else in the form's alert.

import { ApiError } from './api';
import { h, uid } from './dom';

export interface FieldSpec {
  name: string;
  label: string;
  type?: string;
  value?: string;
  required?: boolean;
  autocomplete?: string;
  multiline?: boolean;
  options?: readonly (readonly [string, string])[];
  hint?: string;
  maxlength?: number;
}

export type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

/** A labelled control with a hint and an (initially empty) error message tied to it. */
export function field(spec: FieldSpec): HTMLElement {
  const id = uid(spec.name);
  const errorId = `${id}-error`;
  const hintId = spec.hint ? `${id}-hint` : null;
  const common = {
    id,
    name: spec.name,
    required: spec.required ?? false,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
  };
  let control: Control;
  if (spec.options) {
    control = h(
      'select',
      common,
      spec.options.map(([value, label]) =>
        h('option', { value, selected: value === (spec.value ?? '') }, label),
      ),
    );
  } else if (spec.multiline) {
    control = h('textarea', { ...common, rows: 3, maxlength: spec.maxlength });
    control.value = spec.value ?? '';
  } else {
    control = h('input', {
      ...common,
      type: spec.type ?? 'text',
      value: spec.value ?? '',
      autocomplete: spec.autocomplete,
      maxlength: spec.maxlength,
    });
  }
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, spec.label),
    control,
    hintId && h('p', { id: hintId, class: 'hint' }, spec.hint),
    h('p', { id: errorId, class: 'field-error', hidden: true }),
  );
}

/** The alert region of a form (one per form, above its submit button). */
export function formAlert(): HTMLElement {
  return h('div', { class: 'form-error', role: 'alert' });
}

export function control(form: HTMLFormElement, name: string): Control {
  const found = form.elements.namedItem(name);
  if (!found || found instanceof RadioNodeList) throw new Error(`no field ${name}`);
  return found as Control;
}

export function clearErrors(form: HTMLFormElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('.field-error')) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const alert = form.querySelector<HTMLElement>('.form-error');
  if (alert) alert.textContent = '';
}

/** Shows an API error on a form; a field error the form has no field for goes to its alert. */
export function showError(form: HTMLFormElement, error: unknown): void {
  clearErrors(form);
  const alert = form.querySelector<HTMLElement>('.form-error');
  if (!(error instanceof ApiError)) {
    if (alert) alert.textContent = `Something went wrong: ${String(error)}`;
    return;
  }
  const unplaced: string[] = [];
  let first: Control | null = null;
  for (const { field: name, message } of error.fieldErrors) {
    const input = form.elements.namedItem(name);
    const slot = input instanceof Element ? form.querySelector<HTMLElement>(`#${input.id}-error`) : null;
    if (!(input instanceof Element) || !slot) {
      unplaced.push(`${name}: ${message}`);
      continue;
    }
    input.setAttribute('aria-invalid', 'true');
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    slot.hidden = false;
    first ??= input as Control;
  }
  if (alert) alert.textContent = describe(error, unplaced);
  first?.focus();
}

/** A sentence for the user: the problem's title and detail, a retry delay, unplaced errors. */
export function describe(error: ApiError, extra: string[] = []): string {
  const parts = [error.problem.title];
  if (error.problem.detail && error.problem.detail !== error.problem.title) {
    parts.push(error.problem.detail);
  }
  if (error.retryAfter !== null) parts.push(`Try again in ${error.retryAfter} s.`);
  parts.push(...extra);
  return parts.join(' — ');
}
