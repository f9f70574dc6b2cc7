"""All models, importable as `from kroi.db import models as m`."""
from kroi.db.models.alerts import AlertRun, SavedSearch, SavedSearchHit
from kroi.db.models.accounts import ApiToken, LoginAttempt, PasswordResetToken, User, UserSession
from kroi.db.models.analytics import CarView, PageView, SearchQuery
from kroi.db.models.inventory import Brand, Car, CarFeature, CarImage, CarModel, CarPriceHistory, Feature
from kroi.db.models.leads import Lead, LeadActivity, LeadNote
from kroi.db.models.system import AuditLog, NewsletterSubscriber, OutboxMessage, Setting

__all__ = [
    "AlertRun", "SavedSearch", "SavedSearchHit",
    "ApiToken", "AuditLog", "Brand", "Car", "CarFeature", "CarImage", "CarModel", "CarPriceHistory", "CarView",
    "Feature", "Lead", "LeadActivity", "LeadNote", "LoginAttempt", "NewsletterSubscriber", "OutboxMessage",
    "PageView", "PasswordResetToken", "SearchQuery", "Setting", "User", "UserSession",
]
