import { checkDatasetSlug, MAX_TITLE_LENGTH } from '../catalogue/catalogue.metadata.ts';
import { AppError, type FieldError } from '../errors.ts';
import { readVisibility } from './upload-form.ts';

/** The entries of the "Add a dataset" form, kept when the form comes back with errors; the file has to be chosen again. */
export type NewDatasetForm = {
  title: string;
  dataset: string;
  sheet: string;
  visibility: string;
};

export const NEW_DATASET_FIELDS: ReadonlySet<keyof NewDatasetForm> = new Set<keyof NewDatasetForm>(['title', 'dataset', 'sheet', 'visibility']);

/** Fields in the order the form shows them, so the error summary follows the page. */
export const NEW_DATASET_ORDER = ['title', 'dataset', 'file', 'sheet', 'visibility'];

/** Owner of the dataset that already has a slug: the user's organisation, another organisation, or null for none. */
export type SlugOwner = 'own' | 'other' | null;

/**
 * Makes a dataset slug from a title: lowercase ASCII letters and digits, with a hyphen for each run of anything else,
 * such as "spending-over-500" for "Spending over £500". Accents are dropped ("Café" gives "cafe"). The result may be
 * shorter than a slug must be, which checkDatasetSlug then rejects.
 */
export function datasetSlugFromTitle(title: string): string {
  return title.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 100).replace(/-+$/, '');
}

/** Returns the slug to create: the one entered, or else the one made from the title. */
export function chosenSlug(form: NewDatasetForm): { slug: string; derived: boolean } {
  const entered = form.dataset.trim();
  return entered === '' ? { slug: datasetSlugFromTitle(form.title), derived: true } : { slug: entered, derived: false };
}

/** Names the slug in a message: as entered, or as made from the title. */
function slugWords(slug: string, derived: boolean): string {
  return derived ? `The dataset slug made from the title, "${slug}",` : `The dataset slug "${slug}"`;
}

/** Words the error for a slug that a dataset already has. */
export function slugInUseMessage(slug: string, derived: boolean, owner: 'own' | 'other'): string {
  if (owner === 'own') return `Your organisation already has a dataset with the slug "${slug}". Enter a different dataset slug, or upload a new version from that dataset’s page`;
  return `${slugWords(slug, derived)} is already used by another organisation. Enter a different dataset slug`;
}

function titleErrors(title: string): FieldError[] {
  if (title === '') return [{ field: 'title', message: 'Enter a title' }];
  if (title.length > MAX_TITLE_LENGTH) return [{ field: 'title', message: `Title must be ${MAX_TITLE_LENGTH} characters or fewer. It has ${title.length}` }];
  return [];
}

/** Checks the slug with the rules of the upload API, then looks up with `findOwner` any dataset that already uses it. */
async function slugErrors(form: NewDatasetForm, findOwner: (slug: string) => Promise<SlugOwner>): Promise<FieldError[]> {
  const { slug, derived } = chosenSlug(form);
  if (derived && form.title.trim() === '') return [];
  if (derived && slug.length < 2) {
    return [{ field: 'dataset', message: 'Enter a dataset slug, because the title has too few letters or digits to make one' }];
  }
  try {
    checkDatasetSlug(slug);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (error.code === 'invalid_dataset_slug') {
      return [{ field: 'dataset', message: `${slugWords(slug, derived)} is not valid. Enter 2 to 100 lowercase letters, digits, hyphens and underscores, starting with a letter or digit` }];
    }
    return error.fields.map((field) => ({ field: 'dataset', message: field.message }));
  }
  const owner = await findOwner(slug);
  return owner === null ? [] : [{ field: 'dataset', message: slugInUseMessage(slug, derived, owner) }];
}

/** Checks every entry of the form except the file, returning all the errors at once. */
export async function newDatasetFormErrors(form: NewDatasetForm, findOwner: (slug: string) => Promise<SlugOwner>): Promise<FieldError[]> {
  const errors = [...titleErrors(form.title.trim()), ...(await slugErrors(form, findOwner))];
  if (readVisibility(form.visibility) === null) errors.push({ field: 'visibility', message: 'Select who can see the data' });
  return errors;
}
