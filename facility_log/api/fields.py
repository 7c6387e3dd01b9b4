"""Serializer fields shared by the API modules."""

from rest_framework import serializers


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's SlugRelatedField, refusing a NUL character before it reaches the database
    (PostgreSQL cannot even compare text containing one): the same "does not exist" error
    names the field."""

    def to_internal_value(self, data):
        if "\x00" in str(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value="(contains NUL)")
        return super().to_internal_value(data)
