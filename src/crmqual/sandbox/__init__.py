"""crmqual."""
