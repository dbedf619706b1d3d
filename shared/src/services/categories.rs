//! Categories: creates, reads and optimistic writes like the tasks' (read, check `If-Match`,
//! write conditionally on the version read, retry a lost race). Category writes carry no
//! session condition: their caller's standing is confirmed first.

use super::retry::{ConflictRetry, WRITE_ATTEMPTS};
use super::tasks::account_gone;
use crate::auth::unix_now;
use crate::categories::{Category, CategoryId, CategoryPatch};
use crate::domain::{IfMatch, UserId};
use crate::error::ApiError;
use crate::store::{CategoryCreation, CategoryWrite, Store, StoredCategory};

/// The category service of one request, for its (confirmed) user.
#[derive(Debug, Clone, Copy)]
pub struct CategoryService<'a> {
    pub store: &'a Store,
    pub user: UserId,
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such category")
}

fn name_taken() -> ApiError {
    ApiError::Conflict("a category with this name exists already (names ignore case)")
}

fn lost_every_race() -> ApiError {
    ApiError::Conflict("the category is being changed by other requests; retry")
}

impl CategoryService<'_> {
    pub async fn create(self, category: &Category) -> Result<(), ApiError> {
        match self.store.categories().create(self.user, category).await? {
            CategoryCreation::Created => Ok(()),
            CategoryCreation::AccountGone => Err(account_gone()),
            CategoryCreation::NameTaken => Err(name_taken()),
            CategoryCreation::LimitReached => Err(ApiError::Conflict(
                "at most 100 categories per user: delete one first",
            )),
            CategoryCreation::IdCollision => {
                Err(ApiError::Internal("category id collision".into()))
            }
        }
    }

    pub async fn list(&self) -> Result<Vec<Category>, ApiError> {
        Ok(self.store.categories().list(self.user).await?)
    }

    /// The category `id` (404 if there is none, or it is being deleted).
    pub async fn get(self, id: CategoryId) -> Result<Category, ApiError> {
        let category = self.store.categories().get(self.user, id).await?;
        category.ok_or_else(not_found)
    }

    /// Applies `patch` to the current category, conditionally on the version read. A patch
    /// that changes nothing is not a new version.
    pub async fn update(
        self,
        id: CategoryId,
        if_match: &IfMatch,
        patch: &CategoryPatch,
    ) -> Result<Category, ApiError> {
        let mut rounds = ConflictRetry::new(WRITE_ATTEMPTS);
        while rounds.next().await {
            let current = self.get(id).await?;
            if !if_match.matches(current.version) {
                return Err(ApiError::PreconditionFailed);
            }
            let fields = patch.apply(&current.fields);
            if fields == current.fields {
                return Ok(current);
            }
            let next = current.changed(fields);
            match self
                .store
                .categories()
                .update(self.user, &current, &next)
                .await?
            {
                CategoryWrite::Written => return Ok(next),
                CategoryWrite::Conflict => {}
                CategoryWrite::NameTaken => return Err(name_taken()),
                CategoryWrite::AccountGone => return Err(account_gone()),
            }
        }
        Err(lost_every_race())
    }

    /// Marks the category deleted (from then on it is gone for every read), detaches its
    /// tasks, then removes it. A `DELETE` cut short (a timeout) is finished by the next one,
    /// which finds the marked category: so a retried `DELETE` answers 204 too, until the
    /// category is gone.
    pub async fn delete(self, id: CategoryId, if_match: &IfMatch) -> Result<(), ApiError> {
        let (user, categories) = (self.user, self.store.categories());
        let mut rounds = ConflictRetry::new(WRITE_ATTEMPTS);
        let mut marked = false;
        while !marked && rounds.next().await {
            let current = match categories.read(user, id).await?.ok_or_else(not_found)? {
                StoredCategory::Deleting => {
                    // Resumed: listed among the categories being deleted (a no-op unless the
                    // deletion was begun by a version that kept no such list).
                    categories.list_as_deleting(user, id).await?;
                    marked = true;
                    break;
                }
                StoredCategory::Live(current) => current,
            };
            if !if_match.matches(current.version) {
                return Err(ApiError::PreconditionFailed);
            }
            match categories.mark_deleting(user, &current, unix_now()).await? {
                CategoryWrite::Written => marked = true,
                CategoryWrite::Conflict | CategoryWrite::NameTaken => {}
                CategoryWrite::AccountGone => return Err(account_gone()),
            }
        }
        if !marked {
            return Err(lost_every_race());
        }
        categories.detach_tasks(user, id).await?;
        categories.finish_deletion(user, id).await?;
        Ok(())
    }
}
