// The categories panel of the signed-in screen: the list (name, colour, task count), create,
// rename and recolour (If-Match), delete (its tasks become uncategorised).

import { ApiError, type ApiClient, type Category } from './api';
import { editForm, submit } from './auth-views';
import { h } from './dom';
import { control, describe, field, formAlert } from './forms';

/** The colour a new category starts with (the API's default). */
export const DEFAULT_COLOR = '#3B82F6';

/** A small square in the category's colour (set through the CSSOM: the CSP allows no inline styles). */
export function swatch(color: string): HTMLElement {
  const element = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  element.style.backgroundColor = color;
  return element;
}

export class CategoriesPanel {
  readonly element: HTMLElement;
  private items: Category[] = [];
  private editingId: string | null = null;
  private readonly list = h('ul', { class: 'categories', 'aria-label': 'Categories' });
  private readonly alert = h('div', { class: 'form-error', role: 'alert' });

  /**
   * `changed` runs after every write: the tasks show categories and the categories count tasks,
   * so the caller reloads both (and shows the categories again with `show`).
   */
  constructor(
    private readonly api: ApiClient,
    private readonly changed: (notice: string) => Promise<void>,
  ) {
    this.element = h(
      'section',
      { 'aria-labelledby': 'categories-heading', class: 'categories-panel' },
      h('h2', { id: 'categories-heading' }, 'Categories'),
      this.alert,
      this.list,
      this.createForm(),
    );
  }

  get categories(): readonly Category[] {
    return this.items;
  }

  /** Reloads the list from the API. */
  async load(): Promise<void> {
    this.alert.textContent = '';
    try {
      this.show(await this.api.listCategories());
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      this.alert.textContent = error instanceof ApiError ? describe(error) : String(error);
    }
  }

  show(items: Category[]): void {
    this.items = items;
    this.list.replaceChildren(
      ...items.map((c) => (c.id === this.editingId ? this.editor(c) : this.row(c))),
    );
  }

  private createForm(): HTMLElement {
    const form = h(
      'form',
      { 'aria-label': 'New category', novalidate: true, class: 'category-form' },
      ...categoryFields({ name: '', color: DEFAULT_COLOR }),
      formAlert(),
      h('button', { type: 'submit' }, 'Add category'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(form, async () => {
        const category = await this.api.createCategory(readCategoryForm(form));
        form.reset();
        control(form, 'color').value = DEFAULT_COLOR.toLowerCase();
        await this.afterWrite(`Category "${category.name}" added.`);
      });
    });
    return form;
  }

  private row(category: Category): HTMLElement {
    const tasks = `${category.task_count} ${category.task_count === 1 ? 'task' : 'tasks'}`;
    return h(
      'li',
      { class: 'category', 'data-category-id': category.id },
      swatch(category.color),
      h('span', { class: 'name' }, category.name),
      h('span', { class: 'count' }, ` (${tasks})`),
      h('button', {
        type: 'button',
        'aria-label': `Edit category ${category.name}`,
        onclick: () => this.edit(category.id),
      }, 'Edit'),
      h('button', {
        type: 'button',
        class: 'danger',
        'aria-label': `Delete category ${category.name}`,
        onclick: () => void this.remove(category),
      }, 'Delete'),
    );
  }

  private edit(id: string | null): void {
    this.editingId = id;
    this.show(this.items);
    const form = this.list.querySelector<HTMLFormElement>('form');
    if (form) control(form, 'name').focus();
  }

  private editor(category: Category): HTMLElement {
    const label = `Edit category ${category.name}`;
    const form = editForm(label, 'category-form', categoryFields(category), () => this.edit(null), async (form) => {
      try {
        const saved = await this.api.updateCategory(category, readCategoryForm(form));
        this.editingId = null;
        await this.afterWrite(`Category "${saved.name}" saved.`);
      } catch (error) {
        if (!(error instanceof ApiError && (error.status === 412 || error.status === 404))) throw error;
        // Changed or deleted elsewhere since it was loaded: show what is there now.
        this.editingId = null;
        await this.afterWrite('');
        this.alert.textContent = `"${category.name}" was changed elsewhere; the list has been reloaded.`;
      }
    });
    return h('li', { class: 'category editing', 'data-category-id': category.id }, form);
  }

  private async remove(category: Category): Promise<void> {
    const tasks = category.task_count === 0 ? '' : ` Its ${category.task_count} tasks keep existing, without a category.`;
    if (!window.confirm(`Delete the category "${category.name}"?${tasks}`)) return;
    this.alert.textContent = '';
    try {
      await this.api.deleteCategory(category);
      await this.afterWrite(`Category "${category.name}" deleted.`);
    } catch (error) {
      await this.load();
      this.alert.textContent = error instanceof ApiError ? describe(error) : String(error);
    }
  }

  private async afterWrite(notice: string): Promise<void> {
    await this.changed(notice);
  }
}

function categoryFields(category: Pick<Category, 'name' | 'color'>): HTMLElement[] {
  return [
    field({ name: 'name', label: 'Name', value: category.name, required: true, maxlength: 100 }),
    field({ name: 'color', label: 'Colour', type: 'color', value: category.color.toLowerCase() }),
  ];
}

function readCategoryForm(form: HTMLFormElement): { name: string; color: string } {
  return { name: control(form, 'name').value, color: control(form, 'color').value };
}
